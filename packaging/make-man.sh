#!/usr/bin/env bash
# Writes the two man pages, gzipped, from what the project already documents (nothing here is
# written a second time):
#   switchyard.1      the -h text of the binary, README.md's opening paragraph and the
#                     "Command line" and "Signals" sections of docs/configuration.md
#   switchyard.yml.5  docs/configuration.md, whole
# Usage: make-man.sh <switchyard binary> <source dir> <output dir> <version>
set -euo pipefail
binary=$1 src=$2 out=$3 version=$4
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The lines of one "## <title>" section of a markdown file, its subsections included, with
# its headings raised one level (## -> #, ### -> ##).
section() {
  awk -v title="## $2" '
    $0 == title { on = 1; next }
    on && /^## / { exit }
    on { sub(/^##/, "#"); print }' "$1"
}

{
  echo "% SWITCHYARD(1) switchyard $version | User Commands"
  echo
  echo "# NAME"
  echo
  echo "switchyard - Redis proxy that reads twemproxy's nutcracker.yml"
  echo
  echo "# SYNOPSIS"
  echo
  echo '```'
  "$binary" -h
  echo '```'
  echo
  echo "# DESCRIPTION"
  echo
  # README.md's first paragraph: from the line after the title to the first blank line.
  awk 'NR > 2 && /^$/ { exit } NR > 2 { print }' "$src/README.md"
  echo
  echo "The configuration file is described in **switchyard.yml**(5)."
  echo
  echo "# OPTIONS"
  section "$src/docs/configuration.md" "Command line" | sed '1{/^$/d}'
  echo
  echo "# SIGNALS"
  section "$src/docs/configuration.md" "Signals" | sed '1{/^$/d}'
  echo
  echo "# FILES"
  echo
  echo "*/etc/switchyard/switchyard.yml*"
  echo ":   the configuration file of the packaged service"
  echo
  echo "*/var/log/switchyard/switchyard.log*"
  echo ":   the packaged service's log, rotated by /etc/logrotate.d/switchyard"
  echo
  echo "# SEE ALSO"
  echo
  echo "**switchyard.yml**(5), **nutcracker**(8), **redis-server**(1)"
} > "$tmp/switchyard.1.md"

{
  echo "% SWITCHYARD.YML(5) switchyard $version | File Formats"
  echo
  echo "# NAME"
  echo
  echo "switchyard.yml - configuration file of switchyard, twemproxy's nutcracker.yml format"
  echo
  echo "# DESCRIPTION"
  # Without its "# Configuration" title; "##" sections become the page's sections.
  sed '1{/^# /d}' "$src/docs/configuration.md" | sed -E 's/^#(#+ )/\1/'
  echo
  echo "# SEE ALSO"
  echo
  echo "**switchyard**(1), **nutcracker**(8)"
} > "$tmp/switchyard.yml.5.md"

for page in switchyard.1 switchyard.yml.5; do
  pandoc --standalone --from markdown --to man "$tmp/$page.md" -o "$tmp/$page"
  gzip -9n < "$tmp/$page" > "$out/$page.gz"
done
