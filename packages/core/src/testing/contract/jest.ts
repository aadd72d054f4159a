import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { ComputeDriver } from '../../driver/compute-driver.js';
import { ContractSession } from './session.js';
import type { ContractOptions } from './options.js';

/**
 * The driver contract as a jest suite (Nova's _VirtDriverTestCase, libcloud's TestCaseMixin): one test
 * per check, in order, evidence written after the last one.
 */
export function describeDriverContract(makeDriver: () => Promise<ComputeDriver>, options: ContractOptions): void {
  const session = new ContractSession(options);
  const timeout = (options.timeoutMs ?? 120_000) + 5_000;
  describe(`${options.label} driver contract`, () => {
    beforeAll(async () => {
      session.driver = await makeDriver();
    }, timeout);
    afterAll(async () => {
      if (!session.driver) return;
      await session.finish();
      await session.driver.close();
    }, timeout);
    for (const check of session.checks) {
      it(`${options.label}: ${check.name}`, async () => {
        const outcome = await session.runCheck(check);
        if (outcome.result === 'fail') throw new Error(outcome.error);
      }, timeout);
    }
  });
}
