// The benchmark's floor: the least an HTTP/1.1 server can do on Linux, so the table shows how far each real server
// is above what the kernel's TCP work costs. One thread, one epoll set (edge-triggered), non-blocking sockets; it
// reads whatever arrives, answers once per request head end ("\r\n\r\n") seen, and closes after the answer when the
// read bytes hold "Connection: close". No parsing, no timers, no Date, no limits: never deploy this.
//
//   floor PORT PAGE_FILE        (listens on 127.0.0.1:PORT and answers every request with PAGE_FILE's bytes)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static char keep_alive[16384], closing[16384];
static int keep_alive_len, closing_len;

/** The whole response for the page, with the given Connection value. */
static int build_response(char *out, const char *page, int page_len, const char *connection) {
  int head = snprintf(out, sizeof keep_alive - page_len,
                      "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: text/html; charset=utf-8\r\n"
                      "Connection: %s\r\n\r\n", page_len, connection);
  memcpy(out + head, page, page_len);
  return head + page_len;
}

/** Counts request head ends in what was read; `tail` carries the last 3 bytes across reads. */
static int count_heads(const char *buffer, int length, unsigned *tail) {
  int heads = 0;
  for (int i = 0; i < length; i++) {
    *tail = (*tail << 8) | (unsigned char)buffer[i];
    if (*tail == 0x0d0a0d0a) heads++;
  }
  return heads;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: floor PORT PAGE_FILE\n");
    return 2;
  }
  static char page[12000];
  int page_fd = open(argv[2], O_RDONLY);
  int page_len = page_fd < 0 ? -1 : (int)read(page_fd, page, sizeof page);
  if (page_len < 0) {
    perror(argv[2]);
    return 1;
  }
  keep_alive_len = build_response(keep_alive, page, page_len, "keep-alive");
  closing_len = build_response(closing, page, page_len, "close");

  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), on = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(listener, (struct sockaddr *)&address, sizeof address) || listen(listener, 4096)) {
    perror("listen");
    return 1;
  }
  int epoll = epoll_create1(0);
  struct epoll_event event = {.events = EPOLLIN, .data.u64 = (uint64_t)listener << 32};
  epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &event);
  static unsigned tails[1 << 20]; // the last bytes read per descriptor
  static char buffer[65536];
  static struct epoll_event events[256];
  for (;;) {
    int ready = epoll_wait(epoll, events, 256, -1);
    for (int i = 0; i < ready; i++) {
      int fd = (int)(events[i].data.u64 >> 32);
      if (fd == listener) {
        int client;
        while ((client = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
          tails[client] = 0;
          struct epoll_event added = {.events = EPOLLIN | EPOLLET | EPOLLRDHUP, .data.u64 = (uint64_t)client << 32};
          epoll_ctl(epoll, EPOLL_CTL_ADD, client, &added);
        }
        continue;
      }
      int close_it = 0;
      for (;;) {
        ssize_t got = read(fd, buffer, sizeof buffer);
        if (got > (ssize_t)sizeof buffer) got = -1; // never: tells the compiler the bound
        if (got == 0 || (got < 0 && errno != EAGAIN)) {
          close_it = 1;
          break;
        }
        if (got < 0) break;
        int heads = count_heads(buffer, (int)got, &tails[fd]);
        int closing_request = memmem(buffer, (size_t)got, "Connection: close", 17) != NULL;
        // Up to 64 answers in one writev, as a real server batches pipelined ones.
        while (heads > 0) {
          struct iovec answers[64];
          int n = heads < 64 ? heads : 64;
          for (int k = 0; k < n; k++) {
            answers[k].iov_base = closing_request ? closing : keep_alive;
            answers[k].iov_len = closing_request ? closing_len : keep_alive_len;
          }
          if (writev(fd, answers, n) < 0) break; // a full send buffer: the floor does not queue
          heads -= n;
        }
        if (closing_request) {
          close_it = 1;
          break;
        }
      }
      if (close_it) close(fd);
    }
  }
}
