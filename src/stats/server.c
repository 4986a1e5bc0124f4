/* The stats socket server: one thread, a non-blocking unix stream socket, epoll, few clients. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ringcap/assert.h"
#include "ringcap/dlist.h"
#include "statsd_internal.h"

#define STATSD_MAGIC	0x5afe57a7u
#define READ_CHUNK	16384 /* bytes read from a client per wake-up: others get their turn */
#define MAX_EVENTS	64
#define BACKLOG		128
#define ACCEPT_PAUSE_NS 100000000u /* out of descriptors: stop accepting for 100 ms */
#define DEFAULT_IDLE_MS 60000u

static const char too_many[] = "{\"ok\":false,\"error\":\"too many clients\"}\n";

struct client {
	struct rc_dlink lru; /* on rc_statsd.clients, least recently active first */
	int fd;
	uint32_t events; /* what epoll watches for it now */
	uint64_t last_ns;
	struct rc_statsd_sess sess;
};

struct rc_statsd {
	uint32_t magic;
	int lfd;     /* the listening socket */
	int stop_fd; /* eventfd: rc_statsd_stop wakes the thread */
	int epfd;
	bool accepting;
	uint64_t accept_resume_ns;
	uint64_t start_ns, idle_ns;
	struct rc_statsd_ops ops;
	struct rc_dlist clients;
	unsigned nclients;
	dev_t dev; /* the socket file we bound: removed at stop only if it is still ours */
	ino_t ino;
	pthread_t thread;
	struct rc_statsd_info info; /* written by the thread (relaxed), read by anyone */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* Tags in epoll_event.data.ptr for the two descriptors that are not clients. */
#define TAG_LISTEN(s) ((void *)&(s)->lfd)
#define TAG_STOP(s)   ((void *)&(s)->stop_fd)

static void bump(uint64_t *v)
{
	rc_ctr_bump(v, 1);
}

static void set_clients(struct rc_statsd *s, unsigned n)
{
	s->nclients = n;
	__atomic_store_n(&s->info.clients, n, __ATOMIC_RELAXED);
}

void rc_statsd_get_info(const struct rc_statsd *s, struct rc_statsd_info *out)
{
	RC_ASSERT(s && s->magic == STATSD_MAGIC);
	const struct rc_statsd_info *in = &s->info;
#define LOAD(field) out->field = __atomic_load_n(&in->field, __ATOMIC_RELAXED)
	LOAD(accepted);
	LOAD(refused);
	LOAD(requests);
	LOAD(errors);
	LOAD(dropped_slow);
	LOAD(idle_closed);
	LOAD(protocol_closed);
	LOAD(clients);
#undef LOAD
}

/* ---- clients ---- */

static void client_close(struct rc_statsd *s, struct client *c)
{
	/* Closing the descriptor takes it out of the epoll set. */
	close(c->fd);
	rc_dlist_remove(&s->clients, &c->lru);
	rc_statsd_sess_fini(&c->sess);
	free(c);
	set_clients(s, s->nclients - 1);
}

static void client_touch(struct rc_statsd *s, struct client *c, uint64_t now)
{
	c->last_ns = now;
	rc_dlist_remove(&s->clients, &c->lru);
	rc_dlist_append(&s->clients, &c->lru);
}

/* Watch for input while requests may come, for output while replies are pending. */
static int client_watch(struct rc_statsd *s, struct client *c)
{
	uint32_t ev = 0;
	if (c->sess.state == RC_SESS_OPEN)
		ev |= EPOLLIN;
	if (rc_statsd_sess_pending(&c->sess))
		ev |= EPOLLOUT;
	if (ev == c->events)
		return 0;
	struct epoll_event e = {.events = ev, .data.ptr = c};
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &e) < 0)
		return -errno;
	c->events = ev;
	return 0;
}

/* Send what is pending until done or the socket is full. 0, or -errno (the client is gone). */
static int client_flush(struct client *c, bool *progress)
{
	while (rc_statsd_sess_pending(&c->sess)) {
		ssize_t n = send(c->fd, c->sess.out + c->sess.out_off,
				 rc_statsd_sess_pending(&c->sess), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		rc_statsd_sess_sent(&c->sess, (size_t)n);
		*progress = true;
	}
	return 0;
}

/* Read one chunk and answer it. 0, or -errno / -ECONNRESET when the client must be closed. */
static int client_read(struct client *c, bool *progress)
{
	char buf[READ_CHUNK];
	ssize_t n;
	do
		n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	*progress = true;
	if (n == 0)
		rc_statsd_sess_eof(&c->sess);
	else
		rc_statsd_sess_input(&c->sess, buf, (size_t)n);
	return 0;
}

static void client_event(struct rc_statsd *s, struct client *c, uint32_t ev, uint64_t now)
{
	bool progress = false;
	int err = 0;
	uint64_t replies = c->sess.replies, errors = c->sess.errors;

	if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) && c->sess.state == RC_SESS_OPEN)
		err = client_read(c, &progress);
	else if ((ev & (EPOLLHUP | EPOLLERR)) && !(ev & EPOLLOUT))
		err = -ECONNRESET; /* gone while we only had replies for it */
	/* Counted before they are sent: a client that has its reply sees it counted. */
	for (; replies < c->sess.replies; replies++)
		bump(&s->info.requests);
	for (; errors < c->sess.errors; errors++)
		bump(&s->info.errors);
	if (!err && c->sess.state != RC_SESS_DROP)
		err = client_flush(c, &progress);

	if (c->sess.overflow) {
		bump(&s->info.dropped_slow);
		client_close(s, c);
		return;
	}
	if (err || c->sess.state == RC_SESS_DROP ||
	    (c->sess.state == RC_SESS_CLOSING && !rc_statsd_sess_pending(&c->sess))) {
		if (c->sess.protocol_error)
			bump(&s->info.protocol_closed);
		client_close(s, c);
		return;
	}
	if (progress)
		client_touch(s, c, now);
	if (client_watch(s, c) < 0)
		client_close(s, c);
}

/* Take every waiting connection; past RC_STATSD_MAX_CLIENTS each is told so and closed. */
static void accept_all(struct rc_statsd *s, uint64_t now)
{
	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* The connection stays queued and the socket readable: stop
				 * watching it for a while rather than spin. */
				struct epoll_event e = {.events = 0, .data.ptr = TAG_LISTEN(s)};
				if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->lfd, &e) == 0) {
					s->accepting = false;
					s->accept_resume_ns = now + ACCEPT_PAUSE_NS;
				}
			}
			return;
		}
		if (s->nclients >= RC_STATSD_MAX_CLIENTS) {
			/* A new socket's buffer is empty: the line fits. */
			ssize_t n;
			do
				n = send(fd, too_many, sizeof(too_many) - 1,
					 MSG_NOSIGNAL | MSG_DONTWAIT);
			while (n < 0 && errno == EINTR);
			bump(&s->info.refused); /* before the client can see the close */
			close(fd);
			continue;
		}
		struct client *c = malloc(sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->events = EPOLLIN;
		c->last_ns = now;
		rc_statsd_sess_init(&c->sess, &s->ops, s->start_ns);
		struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
			close(fd);
			free(c);
			continue;
		}
		rc_dlist_append(&s->clients, &c->lru);
		set_clients(s, s->nclients + 1);
		bump(&s->info.accepted);
	}
}

/* Close the clients idle for idle_ns; return the epoll timeout (ms) until the next one is. */
static int expire(struct rc_statsd *s, uint64_t now)
{
	struct client *c;
	while ((c = rc_dlist_first(&s->clients, struct client, lru)) != NULL &&
	       now - c->last_ns >= s->idle_ns) {
		bump(&s->info.idle_closed);
		client_close(s, c);
	}
	uint64_t wait_ns = UINT64_MAX;
	if (c)
		wait_ns = c->last_ns + s->idle_ns - now;
	if (!s->accepting) {
		uint64_t w = s->accept_resume_ns > now ? s->accept_resume_ns - now : 0;
		if (w < wait_ns)
			wait_ns = w;
	}
	if (wait_ns == UINT64_MAX)
		return -1;
	uint64_t ms = (wait_ns + 999999u) / 1000000u; /* round up: never wake early */
	return ms > 3600000u ? 3600000 : (int)ms;
}

static void *server_main(void *arg)
{
	struct rc_statsd *s = arg;
	struct epoll_event ev[MAX_EVENTS];

	for (;;) {
		uint64_t now = rc_statsd_now_ns();
		if (!s->accepting && now >= s->accept_resume_ns) {
			struct epoll_event e = {.events = EPOLLIN, .data.ptr = TAG_LISTEN(s)};
			if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->lfd, &e) == 0)
				s->accepting = true;
			else
				s->accept_resume_ns = now + ACCEPT_PAUSE_NS;
		}
		int timeout = expire(s, now);
		int n = epoll_wait(s->epfd, ev, MAX_EVENTS, timeout);
		if (n < 0) {
			RC_ASSERT(errno == EINTR);
			continue;
		}
		now = rc_statsd_now_ns();
		/* A batch names each client once and only its own event closes it; accepting
		 * comes last, so no event of the batch can name a client freed and reused. */
		bool stop = false, listen = false;
		for (int i = 0; i < n; i++) {
			if (ev[i].data.ptr == TAG_STOP(s))
				stop = true;
			else if (ev[i].data.ptr == TAG_LISTEN(s))
				listen = true;
		}
		if (stop)
			break;
		for (int i = 0; i < n; i++) {
			void *p = ev[i].data.ptr;
			if (p != TAG_STOP(s) && p != TAG_LISTEN(s))
				client_event(s, p, ev[i].events, now);
		}
		if (listen)
			accept_all(s, now);
	}

	struct client *c;
	while ((c = rc_dlist_first(&s->clients, struct client, lru)) != NULL)
		client_close(s, c);
	return NULL;
}

/* ---- start and stop ---- */

/* Is a process listening on the socket at path? 1 yes, 0 no (stale), -errno unknown. */
static int probe(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	int e = errno;
	close(fd);
	if (rc == 0 || e == EAGAIN) /* EAGAIN: listening, its backlog full */
		return 1;
	if (e == ECONNREFUSED)
		return 0;
	return -e;
}

/* Create the socket's folder (only the last component) if it is missing. */
static int make_folder(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0; /* the current folder, or / */
	*slash = '\0';
	struct stat st;
	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		snprintf(err, errlen, "stats socket %s: %s is not a folder", path, dir);
		return -ENOTDIR;
	}
	if (mkdir(dir, 0750) < 0) {
		int e = errno;
		if (e == EEXIST)
			return 0; /* made meanwhile by someone else: theirs */
		snprintf(err, errlen, "stats socket %s: cannot create its folder %s: %s", path, dir,
			 e == ENOENT ? "the folder above it does not exist" : strerror(e));
		return -e;
	}
	/* Exactly 0750, whatever the umask. */
	chmod(dir, 0750);
	return 0;
}

/* Bind sa, replacing a stale socket file; refuse a live one and anything else. */
static int bind_path(int fd, const struct sockaddr_un *sa, char *err, size_t errlen)
{
	const char *path = sa->sun_path;
	for (int tries = 0;; tries++) {
		if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
			return 0;
		int e = errno;
		if (e != EADDRINUSE || tries > 0) {
			if (e == EADDRINUSE)
				snprintf(err, errlen,
					 "stats socket %s: another process took it while starting",
					 path);
			else
				snprintf(err, errlen, "stats socket %s: bind: %s", path,
					 strerror(e));
			return -e;
		}
		struct stat st;
		if (lstat(path, &st) < 0) {
			if (errno == ENOENT)
				continue; /* removed meanwhile: try again */
			e = errno;
			snprintf(err, errlen, "stats socket %s: %s", path, strerror(e));
			return -e;
		}
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen,
				 "stats socket %s: the path exists and is not a socket "
				 "(remove it, or give --stats-socket PATH)",
				 path);
			return -EEXIST;
		}
		int live = probe(sa);
		if (live == 1) {
			snprintf(err, errlen,
				 "another process serves stats on %s (stop it, or give "
				 "--stats-socket PATH)",
				 path);
			return -EADDRINUSE;
		}
		if (live < 0) {
			snprintf(err, errlen,
				 "stats socket %s exists and cannot be checked (%s): remove it, or "
				 "give --stats-socket PATH",
				 path, strerror(-live));
			return -EADDRINUSE;
		}
		/* Left by a process that is gone. */
		if (unlink(path) < 0 && errno != ENOENT) {
			e = errno;
			snprintf(err, errlen, "stats socket %s: cannot remove the stale socket: %s",
				 path, strerror(e));
			return -e;
		}
	}
}

static void unlink_if_ours(const struct rc_statsd *s)
{
	struct stat st;
	if (lstat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
}

static void free_server(struct rc_statsd *s)
{
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	if (s->lfd >= 0)
		close(s->lfd);
	s->magic = 0;
	free(s);
}

static int add_fd(struct rc_statsd *s, int fd, void *tag)
{
	struct epoll_event e = {.events = EPOLLIN, .data.ptr = tag};
	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &e) < 0 ? -errno : 0;
}

int rc_statsd_start(struct rc_statsd **out, const struct rc_statsd_config *cfg,
		    const struct rc_statsd_ops *ops, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int rc;

	*out = NULL;
	if (errlen)
		err[0] = '\0';
	if (!cfg || !cfg->path || !cfg->path[0] || !ops || !ops->totals) {
		snprintf(err, errlen, "stats socket: no path or no totals callback");
		return -EINVAL;
	}
	size_t plen = strlen(cfg->path);
	if (plen >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "stats socket path too long (%zu bytes, at most %zu): %s",
			 plen, sizeof(sa.sun_path) - 1, cfg->path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, cfg->path, plen + 1);

	struct rc_statsd *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "stats socket: out of memory");
		return -ENOMEM;
	}
	s->magic = STATSD_MAGIC;
	s->lfd = s->stop_fd = s->epfd = -1;
	s->ops = *ops;
	s->accepting = true;
	s->idle_ns = (uint64_t)(cfg->idle_timeout_ms ? cfg->idle_timeout_ms : DEFAULT_IDLE_MS) *
		     1000000u;
	memcpy(s->path, cfg->path, plen + 1);

	rc = make_folder(s->path, err, errlen);
	if (rc < 0)
		goto fail;
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0) {
		rc = -errno;
		snprintf(err, errlen, "stats socket: socket: %s", strerror(-rc));
		goto fail;
	}
	rc = bind_path(s->lfd, &sa, err, errlen);
	if (rc < 0)
		goto fail;
	struct stat st;
	if (stat(s->path, &st) < 0 || chmod(s->path, 0660) < 0 || listen(s->lfd, BACKLOG) < 0) {
		rc = -errno;
		snprintf(err, errlen, "stats socket %s: %s", s->path, strerror(-rc));
		unlink(s->path);
		goto fail;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;

	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->epfd < 0 || s->stop_fd < 0 || (rc = add_fd(s, s->lfd, TAG_LISTEN(s))) < 0 ||
	    (rc = add_fd(s, s->stop_fd, TAG_STOP(s))) < 0) {
		rc = rc < 0 ? rc : -errno;
		snprintf(err, errlen, "stats socket: epoll: %s", strerror(-rc));
		unlink_if_ours(s);
		goto fail;
	}

	/* The thread takes no signals: they stay with the threads that handle them. */
	s->start_ns = rc_statsd_now_ns();
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = -pthread_create(&s->thread, NULL, server_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc < 0) {
		snprintf(err, errlen, "stats socket: cannot start its thread: %s", strerror(-rc));
		unlink_if_ours(s);
		goto fail;
	}
	pthread_setname_np(s->thread, "rc-statsd");
	*out = s;
	return 0;

fail:
	free_server(s);
	return rc;
}

void rc_statsd_stop(struct rc_statsd *s)
{
	if (!s)
		return;
	RC_ASSERT(s->magic == STATSD_MAGIC);
	uint64_t one = 1;
	ssize_t n;
	do
		n = write(s->stop_fd, &one, sizeof(one));
	while (n < 0 && errno == EINTR);
	RC_ASSERT(n == sizeof(one));
	RC_ASSERT(pthread_join(s->thread, NULL) == 0);
	unlink_if_ours(s);
	free_server(s);
}
