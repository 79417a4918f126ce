import { LogBudget } from './log-budget';

describe('LogBudget', () => {
  let now: number;
  const clock = () => now;

  const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);

  beforeEach(() => {
    now = T0;
  });

  function allowMany(budget: LogBudget, reason: string, times: number): number {
    let allowed = 0;
    for (let i = 0; i < times; i++) if (budget.allow(reason)) allowed++;
    return allowed;
  }

  it('lets the first lines of a second through, then counts the rest as left out', () => {
    const budget = new LogBudget(10, clock);
    expect(allowMany(budget, 'token expired', 25)).toBe(10);
    // Still the same second: nothing to report yet.
    now += 999;
    expect(budget.takeSuppressed()).toEqual([]);
    now += 1;
    expect(budget.takeSuppressed()).toEqual([
      { reason: 'token expired', suppressed: 15, second: T0 },
    ]);
    // Each count is handed out once.
    expect(budget.takeSuppressed()).toEqual([]);
  });

  it('keeps a budget per reason', () => {
    const budget = new LogBudget(2, clock);
    expect(allowMany(budget, 'a', 5)).toBe(2);
    expect(allowMany(budget, 'b', 3)).toBe(2);
    expect(allowMany(budget, 'c', 1)).toBe(1);
    now += 1000;
    expect(budget.takeSuppressed()).toEqual([
      { reason: 'a', suppressed: 3, second: T0 },
      { reason: 'b', suppressed: 1, second: T0 },
    ]);
  });

  it('starts every clock second with a fresh budget', () => {
    const budget = new LogBudget(3, clock);
    expect(allowMany(budget, 'a', 4)).toBe(3);
    now += 1000;
    expect(allowMany(budget, 'a', 4)).toBe(3);
    now += 1000;
    // One entry per second that had lines left out, in order.
    expect(budget.takeSuppressed()).toEqual([
      { reason: 'a', suppressed: 1, second: T0 },
      { reason: 'a', suppressed: 1, second: T0 + 1000 },
    ]);
  });

  it('reports nothing for a second that stayed within the budget', () => {
    const budget = new LogBudget(10, clock);
    allowMany(budget, 'a', 10);
    now += 5000;
    expect(budget.takeSuppressed()).toEqual([]);
  });

  it('hands out the current second too when asked (at shutdown)', () => {
    const budget = new LogBudget(1, clock);
    allowMany(budget, 'a', 3);
    expect(budget.takeSuppressed(true)).toEqual([{ reason: 'a', suppressed: 2, second: T0 }]);
    now += 1000;
    expect(budget.takeSuppressed()).toEqual([]);
  });

  it('with a budget of 0 logs nothing and counts everything', () => {
    const budget = new LogBudget(0, clock);
    expect(allowMany(budget, 'a', 4)).toBe(0);
    now += 1000;
    expect(budget.takeSuppressed()).toEqual([{ reason: 'a', suppressed: 4, second: T0 }]);
  });
});
