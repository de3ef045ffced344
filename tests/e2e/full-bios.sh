#!/usr/bin/env bash
# A bios guest boots through `pxed boot` in full-DHCP mode.
exec "$(dirname "$0")/helpers/boot-one.sh" full bios 11
