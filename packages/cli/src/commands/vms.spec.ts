import { describe, expect, it, jest } from '@jest/globals';
import yargs from 'yargs';
import { InvalidStateError, type ComputeDriver, type LaunchOptions, type VmStreaming } from '@virtplug/core';
import { CliContext } from '../context.js';
import { toYargs } from './command.js';
import { VMS_ALIASES, VMS_HELP, vmsCommands } from './vms.js';

/** Parses argv with only the VMS commands, against a driver whose `vms` records its calls. */
async function runVms(argv: string[]) {
  const calls: Array<[string, ...unknown[]]> = [];
  const live = (uuid: string) => ({ uuid, name: 'src-1', status: 'BLESSED' as const, blessedFrom: 'src', mode: 'shared' as const, createdAt: 'now', launch: async () => [], listLaunched: async () => [], discard: async () => undefined, delete: async () => undefined });
  const vms: VmStreaming = {
    bless: async (id, o) => (calls.push(['bless', id, o]), live('b-1')),
    launch: async (id, o?: LaunchOptions) => (calls.push(['launch', id, o]), [{ uuid: 'c-1', name: 'src-1-clone-1', status: 'ACTIVE', launchedFrom: id, delete: async () => undefined }]),
    discard: async (id) => {
      calls.push(['discard', id]);
      if (id === 'busy') throw new InvalidStateError(`Instance ${id} still has launched instances. Cannot discard an instance with remaining launched ones.`);
    },
    listBlessed: async (id) => (calls.push(['listBlessed', id]), [live('b-1')]),
    listLaunched: async (id) => (calls.push(['listLaunched', id]), []),
    migrate: async (id, host) => void calls.push(['migrate', id, host]),
    waitForStatus: async () => undefined,
    get: async () => live('b-1'),
    gc: async () => (calls.push(['gc']), { removed: ['x'], resumed: [] }),
  };
  const driver = { name: 'stub', vms, close: async () => undefined } as unknown as ComputeDriver;
  let out = '';
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((c: unknown) => ((out += String(c)), true));
  let error: unknown;
  try {
    const parser = yargs(argv).option('json', { type: 'boolean', global: true }).exitProcess(false).strict().fail((msg, err) => {
      throw err ?? new Error(msg);
    });
    for (const c of vmsCommands) {
      parser.command(
        toYargs(c, (a) => Object.assign(new CliContext(a), { driver: async () => driver }), () => undefined),
      );
    }
    await parser.parseAsync();
  } catch (e) {
    error = e;
  } finally {
    write.mockRestore();
  }
  return { calls, out, error };
}

describe('virtplug VMS commands', () => {
  it('launch passes target, repeated params (values may hold = and shell text) and count', async () => {
    const r = await runVms(['launch', 'b-1', '--target', '512mb', '--params', 'a=1', '--params', 'cmd=$(id)=x', '--count', '2', '--json']);
    expect(r.error).toBeUndefined();
    expect(r.calls).toEqual([['launch', 'b-1', { params: { a: '1', cmd: '$(id)=x' }, target: '512mb', count: 2 }]]);
    expect(JSON.parse(r.out).launched[0]).toEqual({ uuid: 'c-1', name: 'src-1-clone-1', status: 'ACTIVE', launchedFrom: 'b-1' });
  });

  it('refuses a param without =', async () => {
    const r = await runVms(['launch', 'b-1', '--params', 'novalue']);
    expect((r.error as Error).message).toMatch(/key=value/);
    expect(r.calls).toEqual([]);
  });

  it("accepts cobalt's names as aliases", async () => {
    for (const [alias, verb] of Object.entries(VMS_ALIASES)) {
      const r = await runVms([alias, 'x-1']);
      expect(r.error).toBeUndefined();
      expect(r.calls[0]![0]).toBe({ bless: 'bless', launch: 'launch', discard: 'discard', 'list-blessed': 'listBlessed', 'list-launched': 'listLaunched' }[verb]);
    }
  });

  it('gc-migrate, vms gc and discard reach the extension; refusals keep their message', async () => {
    expect((await runVms(['gc-migrate', 'i-1', '10.77.0.2'])).calls).toEqual([['migrate', 'i-1', '10.77.0.2']]);
    expect((await runVms(['vms', 'gc'])).out).toContain('removed x');
    const r = await runVms(['discard', 'busy']);
    expect((r.error as Error).message).toMatch(/still has launched instances/);
  });

  it('help <command> prints the Gridcentric help text, aliases included', async () => {
    expect((await runVms(['help', 'launch'])).out).toBe(VMS_HELP.launch);
    expect((await runVms(['help', 'live-image-create'])).out).toBe(VMS_HELP.bless);
    expect((await runVms(['help', 'gc-migrate'])).out).toContain('usage: virtplug gc-migrate <instance id> <destination host>');
    expect(((await runVms(['help', 'nope'])).error as Error).message).toMatch(/no help topic/);
  });
});
