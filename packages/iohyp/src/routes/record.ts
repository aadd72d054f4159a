import type { Segment } from '../model.js';

/** The attach saga's steps, in order; detach and undo walk them backwards. */
export const ATTACH_STEPS = ['choose-host', 'connect-backend', 'segment-port', 'export', 'attach-disk'] as const;
export type AttachStep = (typeof ATTACH_STEPS)[number];

export type RouteState = 'attaching' | 'attached' | 'detaching' | 'error';

/**
 * One attachment's route, persisted after every step (nova-iorcl kept none and had to hard-code the
 * detach path). Detach and gc read everything they need from here and never rebuild a path.
 */
export interface RouteRecord {
  attachmentId: string;
  volumeId: string;
  instance: { uuid: string; name: string };
  /** The IOhyp agent's name and URL at attach time. */
  iohypHost: string;
  agentUrl: string;
  segment: Segment;
  networkId: string;
  guest: { mac: string; ip: string | null };
  /** Backend/export/holder ids on the agent: all equal to the attachment id. */
  backend: { id: string; type: 'iscsi' | 'file'; url: string; chap: boolean; sizeBytes: number | null };
  segmentPort: { iface: string; address: string; backend: string } | null;
  export: { id: string; host: string; port: number; name: string; allow: string[] | null } | null;
  /** The guest device (mountpoint) the export is attached as. */
  device: string;
  state: RouteState;
  /** Completed steps, in order. */
  done: AttachStep[];
  error?: { step: string; message: string; code?: string };
  createdAt: string;
  updatedAt: string;
}
