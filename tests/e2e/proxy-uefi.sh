#!/usr/bin/env bash
# A uefi guest boots through `pxed boot` in proxy-DHCP mode.
exec "$(dirname "$0")/helpers/boot-one.sh" proxy uefi 14
