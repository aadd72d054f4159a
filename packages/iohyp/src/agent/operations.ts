import { z } from 'zod';
import { backendSpecSchema, cidrSchema, exportNameSchema, idSchema, ipv4Schema, segmentSchema } from '../validate.js';
import type { AgentService } from './service.js';

interface Operation<S extends z.ZodType> {
  input: S;
  /** What a caller must send, for 400 answers. */
  expected: string;
  run(service: AgentService, input: z.infer<S>): Promise<unknown>;
}

const op = <S extends z.ZodType>(o: Operation<S>) => o as unknown as Operation<z.ZodType>;

/**
 * The allow-list: the only things the agent will do, as rootwrap's CommandFilter entries were for
 * nova-iorcl. Each validates its input strictly before anything runs; there is no generic "run".
 */
export const OPERATIONS: Readonly<Record<string, Operation<z.ZodType>>> = Object.freeze({
  status: op({ input: z.object({}).strict(), expected: '{}', run: (s) => s.status() }),
  connect_backend: op({
    input: z.object({ id: idSchema, backend: backendSpecSchema }).strict(),
    expected: '{id, backend: {type:"iscsi", portal, iqn, lun, chap?} | {type:"file", path, format}}',
    run: (s, i) => s.connectBackend(i.id, i.backend),
  }),
  disconnect_backend: op({ input: z.object({ id: idSchema }).strict(), expected: '{id}', run: (s, i) => s.disconnectBackend(i.id) }),
  ensure_segment_port: op({
    input: z.object({ segment: segmentSchema, address: cidrSchema, holder: idSchema }).strict(),
    expected: '{segment: {type, id}, address: "ip/prefix", holder}',
    run: (s, i) => s.ensureSegmentPort(i.segment, i.address, i.holder),
  }),
  release_segment_port: op({
    input: z.object({ segment: segmentSchema, holder: idSchema }).strict(),
    expected: '{segment: {type, id}, holder}',
    run: (s, i) => s.releaseSegmentPort(i.segment, i.holder),
  }),
  iohyp_create_blk_device: op({
    input: z
      .object({ id: idSchema, backendId: idSchema, segment: segmentSchema, name: exportNameSchema, allow: z.array(ipv4Schema).max(64).nullable() })
      .strict(),
    expected: '{id, backendId, segment: {type, id}, name, allow: [ipv4] | null}',
    run: (s, i) => s.createExport(i.id, i.backendId, i.segment, i.name, i.allow),
  }),
  iohyp_remove_blk_device: op({ input: z.object({ id: idSchema }).strict(), expected: '{id}', run: (s, i) => s.removeExport(i.id) }),
});

export type OperationName =
  | 'status'
  | 'connect_backend'
  | 'disconnect_backend'
  | 'ensure_segment_port'
  | 'release_segment_port'
  | 'iohyp_create_blk_device'
  | 'iohyp_remove_blk_device';
