import type { InstanceRef } from '../../model/instance.js';
import type { ComputeDriver } from '../compute-driver.js';

/**
 * The in-guest agent of the project's guest image (docs/guest-agent.md): newline-delimited JSON over a
 * virtio-serial channel. Drivers that wire the channel expose it, so packages above them (VMS, cloudlet,
 * iohyp tests) reach the guest without knowing the hypervisor.
 */
export interface GuestAgentClient {
  request<T = Record<string, unknown>>(op: string, args?: Record<string, unknown>, options?: { timeoutMs?: number }): Promise<T>;
  /** Resolves once the agent answers `ping`, or rejects with TimeoutError. */
  waitReady(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export interface GuestAgentAccess {
  guestAgent(instance: InstanceRef): GuestAgentClient;
}

export function hasGuestAgent(driver: ComputeDriver): driver is ComputeDriver & GuestAgentAccess {
  return typeof (driver as Partial<GuestAgentAccess>).guestAgent === 'function';
}
