// without-ipv6 COMMAND [ARG...]: runs COMMAND as on a kernel booted with ipv6.disable=1, where socket(AF_INET6, ...)
// fails with EAFNOSUPPORT: a seccomp filter refuses exactly that call and allows every other. The server tests
// use it for the listener's IPv4 fallback. An arm64 server under qemu-user is covered too: qemu makes the host's
// socket call, which the filter sees.
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define HOST_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define HOST_ARCH AUDIT_ARCH_AARCH64
#else
#error "without-ipv6: unsupported host architecture"
#endif

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: without-ipv6 COMMAND [ARG...]\n");
    return 2;
  }
  struct sock_filter refuse_ipv6_sockets[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, HOST_ARCH, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW), // another system call ABI: its numbers mean other calls
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])), // the family (low half)
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EAFNOSUPPORT),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog program = {
      .len = sizeof refuse_ipv6_sockets / sizeof refuse_ipv6_sockets[0],
      .filter = refuse_ipv6_sockets,
  };
  // No new privileges: what lets an unprivileged process install a filter; it also keeps the filter on exec.
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
    perror("without-ipv6: seccomp");
    return 126;
  }
  execvp(argv[1], argv + 1);
  perror("without-ipv6: exec");
  return 127;
}
