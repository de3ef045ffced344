#!/usr/bin/env bash
# A bios guest boots through `pxed boot` in proxy-DHCP mode.
exec "$(dirname "$0")/helpers/boot-one.sh" proxy bios 13
