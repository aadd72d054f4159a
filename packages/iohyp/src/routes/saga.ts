import { OperationFailedError, TransientError, isVirtplugError, type VirtplugError } from '@virtplug/core';
import type { RouteContext } from './context.js';
import { ATTACH_STEPS, type AttachStep, type RouteRecord } from './record.js';
import { FORWARD, UNDO, type AttachInput } from './steps.js';

export interface TeardownResult {
  undone: AttachStep[];
  failed: Array<{ step: AttachStep; message: string; code?: string }>;
}

/**
 * Runs the attach steps in order, persisting the record after each. When a step fails, the steps
 * already done are undone in reverse, and the error names the failed step and what was undone.
 */
export async function runAttach(ctx: RouteContext, record: RouteRecord, input: AttachInput): Promise<RouteRecord> {
  let r = ctx.routes.save(record);
  for (const step of ATTACH_STEPS) {
    try {
      await ctx.faults?.(step, 'before', r);
      await FORWARD[step](ctx, r, input);
      r.done.push(step);
      r = ctx.routes.save(r);
      await ctx.faults?.(step, 'after', r);
    } catch (e) {
      ctx.logger.warn({ attachmentId: r.attachmentId, step, err: (e as Error).message }, 'attach step failed; undoing');
      const undo = await teardown(ctx, r);
      throw stepError('attach', step, r, e, undo);
    }
  }
  r.state = 'attached';
  return ctx.routes.save(r);
}

/**
 * Undoes the record's completed steps in reverse. Each success is persisted at once, so an
 * interrupted teardown resumes (from gc) exactly where it stopped. Failed undos are collected, not
 * thrown: later undos still run where they can, and the record keeps what remains.
 */
export async function teardown(ctx: RouteContext, record: RouteRecord, options: { skipDisk?: boolean } = {}): Promise<TeardownResult> {
  const result: TeardownResult = { undone: [], failed: [] };
  for (const step of [...record.done].reverse()) {
    if (step === 'attach-disk' && options.skipDisk) {
      // The instance is gone, and its disks with it.
      record.done = record.done.filter((s) => s !== step);
      continue;
    }
    try {
      await UNDO[step](ctx, record);
      record.done = record.done.filter((s) => s !== step);
      result.undone.push(step);
      ctx.routes.save(record);
    } catch (e) {
      result.failed.push({ step, message: (e as Error).message, ...(isVirtplugError(e) ? { code: e.code } : {}) });
      ctx.logger.error({ attachmentId: record.attachmentId, step, err: (e as Error).message }, 'undo failed; left for gc');
    }
  }
  if (result.failed.length === 0) {
    ctx.routes.delete(record.attachmentId);
  } else {
    const first = result.failed[0]!;
    record.state = 'error';
    record.error = { step: `undo:${first.step}`, message: first.message, ...(first.code ? { code: first.code } : {}) };
    ctx.routes.save(record);
  }
  return result;
}

/** The error a caller sees: which step, of which route, why, and what was cleaned up. */
export function stepError(kind: 'attach' | 'detach', step: string, r: RouteRecord, cause: unknown, undo?: TeardownResult): VirtplugError {
  const why = (cause as Error).message;
  const cleanup = undo
    ? undo.failed.length === 0
      ? ` Undone: ${undo.undone.join(', ') || 'nothing to undo'}.`
      : ` Undone: ${undo.undone.join(', ') || 'none'}; NOT undone: ${undo.failed.map((f) => `${f.step} (${f.message})`).join('; ')} — run 'virtplug iohyp gc'.`
    : '';
  const message = `IOhyp ${kind} of volume ${r.volumeId} ${kind === 'attach' ? 'to' : 'from'} instance ${r.instance.name} failed at step "${step}": ${why}${cleanup}`;
  const details = {
    step,
    attachmentId: r.attachmentId,
    volumeId: r.volumeId,
    instance: r.instance.uuid,
    iohypHost: r.iohypHost || null,
    causeCode: isVirtplugError(cause) ? cause.code : null,
    ...(undo ? { undone: undo.undone, notUndone: undo.failed } : {}),
  };
  return isVirtplugError(cause) && cause.retryable
    ? new TransientError(message, details, { cause })
    : new OperationFailedError(message, details, { cause });
}
