/*
 * ct_xdp_link IFNAME: load a two-instruction XDP program (XDP_PASS) and
 * attach it to IFNAME with bpf(BPF_LINK_CREATE), hold it briefly, exit
 * (closing the link detaches it). Raw bpf() so the test needs no libbpf.
 */
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

int main(int argc, char **argv)
{
	struct bpf_insn prog[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr a;
	unsigned ifindex;
	int pfd, lfd;

	if (argc != 2 || !(ifindex = if_nametoindex(argv[1]))) {
		fprintf(stderr, "usage: ct_xdp_link IFNAME (an existing interface)\n");
		return 2;
	}
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_XDP;
	a.insns = (unsigned long)prog;
	a.insn_cnt = 2;
	a.license = (unsigned long)"GPL";
	pfd = sys_bpf(BPF_PROG_LOAD, &a);
	if (pfd < 0) {
		perror("BPF_PROG_LOAD");
		return 1;
	}
	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = pfd;
	a.link_create.target_ifindex = ifindex;
	a.link_create.attach_type = BPF_XDP;
	a.link_create.flags = XDP_FLAGS_SKB_MODE;
	lfd = sys_bpf(BPF_LINK_CREATE, &a);
	if (lfd < 0) {
		perror("BPF_LINK_CREATE");
		return 1;
	}
	usleep(100000);
	close(lfd);
	close(pfd);
	return 0;
}
