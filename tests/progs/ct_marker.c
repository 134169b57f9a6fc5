/* ct_marker ARGS... FILE: create FILE, the first thing main does, and exit
 * 0 (1 if FILE exists already). Copied under another name (terraform,
 * kubectl) it stands for a destructive command whose first action is
 * visible: if FILE exists, the program ran. */
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd;

	if (argc < 2)
		return 2;
	fd = open(argv[argc - 1], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return 1;
	close(fd);
	return 0;
}
