#!/usr/bin/env bash
# The PXE menu chosen from the keyboard: item 2 on BIOS (iPXE's menu) and UEFI (EDK2's),
# where the iPXE that item 2 loaded must still be given item 2's profile.
PXED_MENU_MODE=keys exec "$(dirname "$0")/pxe-menu.sh" "$@"
