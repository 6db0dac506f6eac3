import { describe, expect, it } from 'vitest';

import {
  displayStatus,
  formatBytes,
  formatUptime,
  PLACEHOLDER,
  runnerText,
  statusClass,
  statusTone
} from '../../src/process/format';
import { STATUSES as PROCESS_STATUSES } from '../../src/live/protocol';

describe('formatUptime', () => {
  it.each([
    [0, '0s'],
    [0.9, '0s'],
    [59, '59s'],
    [60, '1m 00s'],
    [187, '3m 07s'],
    [3599, '59m 59s'],
    [3600, '1h 00m'],
    [7500, '2h 05m'],
    [86399, '23h 59m'],
    [86400, '1d 0h'],
    [4 * 86400 + 3 * 3600 + 59, '4d 3h']
  ])('formats %s seconds as %s', (seconds, expected) => {
    expect(formatUptime(seconds)).toBe(expected);
  });

  it.each([null, undefined, NaN, Infinity, -1])(
    'prints a placeholder for %s',
    value => {
      expect(formatUptime(value)).toBe(PLACEHOLDER);
    }
  );
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1, '1 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [10 * 1024, '10 KiB'],
    [1024 * 1024 - 1, '1.0 MiB'],
    [1024 * 1024, '1.0 MiB'],
    [12.4 * 1024 * 1024, '12 MiB'],
    [3 * 1024 ** 3, '3.0 GiB'],
    [2 * 1024 ** 4, '2.0 TiB'],
    [5000 * 1024 ** 5, '5000 PiB']
  ])('formats %s as %s', (bytes, expected) => {
    expect(formatBytes(bytes)).toBe(expected);
  });

  it.each([null, undefined, NaN, -5, Infinity])(
    'prints a placeholder for %s',
    value => {
      expect(formatBytes(value)).toBe(PLACEHOLDER);
    }
  );
});

describe('statusTone and statusClass', () => {
  it.each([
    ['running', 'ok'],
    ['starting', 'warn'],
    ['unhealthy', 'warn'],
    ['stopping', 'warn'],
    ['failed', 'error'],
    ['stopped', 'neutral'],
    ['exited', 'neutral']
  ])('%s is %s', (status, tone) => {
    expect(statusTone(status)).toBe(tone);
    expect(statusClass(status)).toBe(`syft-pm-tone-${tone}`);
  });

  it('gives every known status a tone other than unknown', () => {
    for (const status of PROCESS_STATUSES) {
      expect(statusTone(status)).not.toBe('unknown');
    }
  });

  it.each(['unknown', 'Running', '', null, undefined, 'zombie'])(
    'treats %s as unknown',
    status => {
      expect(statusTone(status)).toBe('unknown');
      expect(statusClass(status)).toBe('syft-pm-tone-unknown');
      expect(displayStatus(status)).toBe('unknown');
    }
  );

  it('displays known statuses as they are', () => {
    expect(displayStatus('failed')).toBe('failed');
  });
});

describe('runnerText', () => {
  it('says where a scheduler runs a process, or that it waits', () => {
    expect(
      runnerText({
        kind: 'slurm',
        job_id: '42',
        node: 'node07',
        partition: 'gpu'
      })
    ).toBe('slurm job 42 on node07 (gpu)');
    expect(
      runnerText({ kind: 'slurm', job_id: '42', node: null, partition: 'gpu' })
    ).toBe('slurm job 42 (queued)');
  });
});
