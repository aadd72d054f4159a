import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { VmInfo } from '../vboxmanage/parse/vm-info.js';

/** How much of the log Nova's get_console_output returns at most: the tail, like libvirt's 100 KiB. */
export const CONSOLE_TAIL_BYTES = 100 * 1024;

/**
 * The serial console log: UART1 writes to a file (`--uartmode1 file <path>`, set at spawn), read from the
 * path VirtualBox reports. A log that does not exist yet (the guest printed nothing) is empty.
 */
export function readSerialLog(info: VmInfo, maxBytes = CONSOLE_TAIL_BYTES): string {
  if (!info.uart1.enabled || info.uart1.mode !== 'file' || !info.uart1.path) return '';
  let fd: number;
  try {
    fd = openSync(info.uart1.path, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}
