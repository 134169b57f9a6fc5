/*
 * ct_writeloop DIR FILES ROUNDS: ROUNDS times, for each of FILES files
 * DIR/f<i>: open(O_WRONLY|O_CREAT|O_TRUNC), write one line, close. Two
 * file records (open, close) per cycle when DIR is watched: a burst for
 * the reliability tests.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char path[4096], line[64];
	long files, rounds;

	if (argc != 4) {
		fprintf(stderr, "usage: ct_writeloop DIR FILES ROUNDS\n");
		return 2;
	}
	files = atol(argv[2]);
	rounds = atol(argv[3]);
	for (long r = 0; r < rounds; r++)
		for (long i = 0; i < files; i++) {
			int fd, n;

			snprintf(path, sizeof(path), "%s/f%ld", argv[1], i);
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd < 0) {
				perror(path);
				return 1;
			}
			n = snprintf(line, sizeof(line), "round = %ld\n", r);
			if (write(fd, line, n) != n) {
				perror(path);
				return 1;
			}
			close(fd);
		}
	return 0;
}
