import { sample } from '../../../test/helpers/samples.js';
import { parseHostInfo } from './hostinfo.js';

describe('list hostinfo parser', () => {
  it('reads sample S5', () => {
    const info = parseHostInfo(sample('S5-list-hostinfo.txt'));
    expect(info).toMatchObject({
      processorCount: 4,
      processorOnlineCount: 4,
      processorCoreCount: 4,
      memorySizeMb: 16384,
      memoryAvailableMb: 11517,
      cpuModel: 'Intel(R) Core(TM) i5-7500 CPU @ 3.40GHz',
      cpuSpeedMhz: 3400,
      operatingSystem: 'Darwin',
      operatingSystemVersion: '18.7.0',
      hwVirtualization: true,
    });
    expect(info.fields['Host time']).toBe('2021-07-26T01:17:17.290000000Z');
  });

  it("reads nova-virtualbox's reduced fixture and newer keys, unknown speed", () => {
    const text = 'Processor online count: 2\nProcessor count: 2\nProcessor online core count: 1\nProcessor core count: 1\nProcessor supports virt. vmsave/vmload: no\nProcessor#0 speed: unknown\nMemory size: 2048 MByte\nMemory available: 1024 MByte\n';
    expect(parseHostInfo(text)).toMatchObject({ processorCount: 2, processorCoreCount: 1, memorySizeMb: 2048, memoryAvailableMb: 1024 });
    expect(parseHostInfo(text).cpuSpeedMhz).toBeUndefined();
  });
});
