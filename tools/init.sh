#!/bin/sh
# The Linux server's start-up script (make run): run by busybox sh as the
# first process.  Shell built-ins only for now: the server has no fork yet.
echo "init: this is busybox sh, an unmodified Debian binary, on the Linux server"
echo "init: every Linux process is an L4 task; its system calls are IPC"
