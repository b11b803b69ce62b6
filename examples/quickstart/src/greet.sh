#!/bin/sh
# Prints a greeting with the time it was made.
printf '%s, built at %s\n' "$1" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
