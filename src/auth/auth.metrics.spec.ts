import { AppConfigService } from '../config/app-config.service';
import { MetricsService } from '../metrics/metrics.service';
import { AuthMetrics } from './auth.metrics';

function setUp() {
  const metrics = new MetricsService({ metrics: { port: 0 } } as unknown as AppConfigService);
  return { metrics, auth: new AuthMetrics(metrics) };
}

async function valuesOf(metrics: MetricsService, name: string) {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  if (!metric) throw new Error(`${name} is not registered`);
  return metric.values;
}

describe('AuthMetrics', () => {
  it('labels a refusal with its reason phrase in snake case, up to any ";"', async () => {
    const { metrics, auth } = setUp();
    auth.refused('token expired');
    auth.refused('token expired');
    auth.refused('not a JWT; send the JWT from GET /api/auth/token');
    auth.refused('authorization header must be Bearer <token>');
    expect(await valuesOf(metrics, 'todo_api_auth_refusals_total')).toEqual([
      { labels: { reason: 'token_expired' }, value: 2 },
      { labels: { reason: 'not_a_jwt' }, value: 1 },
      { labels: { reason: 'authorization_header_must_be_bearer_token' }, value: 1 },
    ]);
  });

  it('keeps the reason label set bounded even if reasons were unbounded', async () => {
    const { metrics, auth } = setUp();
    for (let i = 0; i < 200; i++) auth.refused(`reason ${i}`);
    const values = await valuesOf(metrics, 'todo_api_auth_refusals_total');
    expect(values).toHaveLength(65);
    expect(values.find((v) => v.labels.reason === 'other')?.value).toBe(136);
  });

  it('reads the key set and the token cache at scrape time', async () => {
    const { metrics, auth } = setUp();
    expect((await valuesOf(metrics, 'todo_api_jwks_key_set_age_seconds'))[0].value).toBeNaN();
    auth.observeKeySet(() => ({ keys: 3, loadedAt: Date.now() - 90_000 }));
    auth.observeTokenCache(() => 7);
    expect((await valuesOf(metrics, 'todo_api_jwks_keys'))[0].value).toBe(3);
    const age = (await valuesOf(metrics, 'todo_api_jwks_key_set_age_seconds'))[0].value;
    expect(age).toBeGreaterThanOrEqual(90);
    expect(age).toBeLessThan(100);
    expect((await valuesOf(metrics, 'todo_api_token_cache_entries'))[0].value).toBe(7);
  });

  it('counts JWKS fetches by outcome, both series present from the start', async () => {
    const { metrics, auth } = setUp();
    expect(await valuesOf(metrics, 'todo_api_jwks_fetches_total')).toEqual([
      { labels: { outcome: 'success' }, value: 0 },
      { labels: { outcome: 'failure' }, value: 0 },
    ]);
    auth.jwksFetched('failure');
    auth.jwksFetched('success');
    auth.jwksFetched('success');
    expect(await valuesOf(metrics, 'todo_api_jwks_fetches_total')).toEqual([
      { labels: { outcome: 'success' }, value: 2 },
      { labels: { outcome: 'failure' }, value: 1 },
    ]);
  });
});
