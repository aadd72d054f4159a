import { ConfigError, InvalidArgumentError, LockedError, NotFoundError, TimeoutError, UnsupportedOperationError, hasErrorCode } from './errors.js';

describe('error taxonomy', () => {
  it('gives each error a stable code and a message that names the thing', () => {
    expect(new NotFoundError('Instance', 'abc').message).toBe('Instance "abc" could not be found.');
    const u = new UnsupportedOperationError('virtualbox', 'rescue');
    expect([u.code, u.driver, u.operation]).toEqual(['unsupported', 'virtualbox', 'rescue']);
    expect(new InvalidArgumentError('name', 'a/b', 'no slashes').message).toBe('Invalid name: "a/b"; expected no slashes.');
    expect(new ConfigError('f.conf', 'virtualbox', 'retry_count', 'abc', 'an integer').toJSON()).toMatchObject({ code: 'invalid_config' });
    expect(new LockedError('busy').retryable).toBe(true);
    expect(new TimeoutError('VBoxManage showvminfo', 500).message).toBe('VBoxManage showvminfo did not finish within 500 ms.');
    expect(hasErrorCode(new NotFoundError('x', 'y'), 'not_found')).toBe(true);
    expect(hasErrorCode(new Error('x'), 'not_found')).toBe(false);
  });
});
