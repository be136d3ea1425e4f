#!/bin/sh
# The Linux server's start-up script (make run): run by busybox sh as the
# first process.  Each command below that is not a shell built-in is a
# process of its own: an L4 task made by fork and execve.  It ends by
# becoming an interactive shell on the console; `exit` (or Ctrl-D) powers
# the machine off.
echo "init: this is busybox sh, an unmodified Debian binary, on the Linux server"
echo "init: every Linux process is an L4 task; its system calls are IPC"
echo "init: $(uname -sr) on $(uname -m), pid $$"
echo "init: a pipeline of three processes:"
ls /bin | head -n 40 | wc -l
echo "init: a 64 KiB round trip through gzip:"
head -c 65536 /dev/urandom >/tmp/r
gzip -c /tmp/r | gunzip | cmp - /tmp/r && echo "init: gzip | gunzip gives the same bytes back"
echo "init: an interactive shell follows; 'exit' or Ctrl-D powers off"
exec /bin/sh -i
