#!/usr/bin/env bash
# A uefi guest boots through `pxed boot` in full-DHCP mode.
exec "$(dirname "$0")/helpers/boot-one.sh" full uefi 12
