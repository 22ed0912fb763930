/*
 * The pod sandbox's "pause" process: holds the pod's namespaces open and does nothing else. Built here with
 * `gcc -static` because registry.k8s.io/pause cannot be pulled on these machines. Same behaviour as upstream's
 * build/pause/linux/pause.c: exit 0 on SIGINT/SIGTERM, reap children (it may be PID 1 of a shared PID namespace).
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void exit_on_signal(int signal_number) {
  (void)signal_number;
  _exit(0);
}

static void reap_children(int signal_number) {
  (void)signal_number;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(void) {
  struct sigaction on_stop = {.sa_handler = exit_on_signal};
  struct sigaction on_child = {.sa_handler = reap_children, .sa_flags = SA_NOCLDSTOP};
  if (sigaction(SIGINT, &on_stop, NULL) < 0 || sigaction(SIGTERM, &on_stop, NULL) < 0 ||
      sigaction(SIGCHLD, &on_child, NULL) < 0) {
    return 1;
  }
  for (;;) {
    pause();
  }
}
