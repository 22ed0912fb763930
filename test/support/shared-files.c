// shared-files PID: prints "A B" for every pair of PID's descriptors that refer to the same open file (one file
// description, as after dup), compared by the kernel with kcmp(KCMP_FILE); prints nothing when every descriptor
// is a file of its own. The server tests use it on the spare descriptor: closing a descriptor frees an open file
// (what ENFILE counts) only when no other descriptor shares it.
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KCMP_FILE 0

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: shared-files PID\n");
    return 2;
  }
  pid_t pid = (pid_t)atoi(argv[1]);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
  DIR *dir = opendir(path);
  if (!dir) {
    perror(path);
    return 1;
  }
  int fds[4096];
  int count = 0;
  for (struct dirent *entry; (entry = readdir(dir)) != NULL && count < 4096;) {
    if (entry->d_name[0] != '.') fds[count++] = atoi(entry->d_name);
  }
  closedir(dir);
  for (int a = 0; a < count; a++) {
    for (int b = a + 1; b < count; b++) {
      long same = syscall(SYS_kcmp, pid, pid, KCMP_FILE, fds[a], fds[b]);
      if (same == 0) printf("%d %d\n", fds[a], fds[b]);
    }
  }
  return 0;
}
