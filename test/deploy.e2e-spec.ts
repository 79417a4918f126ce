import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { MAX_DRAIN_MS } from '../src/common/http-drain';
import { validateEnv } from '../src/config/env.validation';
import { ROOT } from './support/app-process';

/**
 * The deployment files, without a cluster or Docker: every Kubernetes manifest is validated
 * against the Kubernetes schemas (kubernetes-models), and the manifests, the Dockerfile and the
 * compose file are checked against the app itself: the variables its validation reads, its
 * port, its health routes, its build output and its shutdown timings.
 */

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [field: string]: any;
};

const K8S = join(ROOT, 'deploy', 'k8s');
const BASE = join(K8S, 'base');
const OVERLAY = join(K8S, 'overlays', 'example');

/** Every variable name the app's validation reads, recorded off a real run of it. */
function variablesTheAppReads(): Set<string> {
  const names = new Set<string>();
  const recorder = new Proxy(
    {},
    {
      get: (_target, name) => {
        if (typeof name === 'string') names.add(name);
        return undefined;
      },
    },
  );
  validateEnv(recorder);
  return names;
}

function readYaml(path: string): Manifest[] {
  return parseAllDocuments(readFileSync(path, 'utf8')).map((doc) => doc.toJS() as Manifest);
}

/** The resources a kustomization lists, read in order (directories are kustomizations too). */
function render(dir: string): Manifest[] {
  const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as {
    resources: string[];
    patches?: { path: string }[];
    namespace?: string;
  };
  const manifests = kustomization.resources.flatMap((resource) => {
    const path = resolve(dir, resource);
    expect({ resource, exists: existsSync(path) }).toEqual({ resource, exists: true });
    return existsSync(join(path, 'kustomization.yaml')) ? render(path) : readYaml(path);
  });
  for (const { path } of kustomization.patches ?? []) {
    for (const patch of readYaml(join(dir, path))) {
      const target = manifests.find(
        (m) => m.kind === patch.kind && m.metadata.name === patch.metadata.name,
      );
      expect({ patch: path, target: target?.kind }).toEqual({ patch: path, target: patch.kind });
      Object.assign(target!, merge(target, patch));
    }
  }
  return manifests;
}

/** A strategic merge as far as these patches need it: maps merge, everything else replaces. */
function merge(base: unknown, patch: unknown): unknown {
  if (!isMap(base) || !isMap(patch)) return patch;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) merged[key] = merge(base[key], value);
  return merged;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates one manifest with the kubernetes-models class for its apiVersion and kind. */
async function validateAgainstSchema(manifest: Manifest): Promise<void> {
  const path = manifest.apiVersion.includes('/')
    ? `kubernetes-models/${manifest.apiVersion}/${manifest.kind}`
    : `kubernetes-models/v1/${manifest.kind}`;
  const module = (await import(path)) as Record<
    string,
    new (data: unknown) => { validate(): void }
  >;
  new module[manifest.kind](manifest).validate();
}

function find(manifests: Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && (!name || m.metadata.name === name));
  expect(found).toHaveLength(1);
  return found[0];
}

function envOf(manifests: Manifest[]): Record<string, string> {
  return {
    ...(find(manifests, 'ConfigMap').data as Record<string, string>),
    ...(find(manifests, 'Secret').stringData as Record<string, string>),
  };
}

/** The app's routes, from the committed OpenAPI document (itself checked against the app). */
function documentedPaths(): string[] {
  const document = JSON.parse(readFileSync(join(ROOT, 'openapi.json'), 'utf8')) as {
    paths: Record<string, unknown>;
  };
  return Object.keys(document.paths);
}

describe('deployment files', () => {
  const variables = variablesTheAppReads();
  const defaults = validateEnv({});

  describe.each([
    ['base', BASE],
    ['example overlay', OVERLAY],
  ])('Kubernetes: %s', (_name, dir) => {
    const manifests = render(dir);
    const deployment = find(manifests, 'Deployment', 'todo-api');
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    const env = envOf(manifests);

    it('validates every manifest against the Kubernetes schemas', async () => {
      expect(manifests.map((m) => m.kind).sort()).toEqual(
        expect.arrayContaining([
          'ConfigMap',
          'Deployment',
          'HorizontalPodAutoscaler',
          'Job',
          'NetworkPolicy',
          'PodDisruptionBudget',
          'Secret',
          'Service',
        ]),
      );
      for (const manifest of manifests) await validateAgainstSchema(manifest);
    });

    it('sets only variables the app reads, with values its validation accepts', () => {
      expect(Object.keys(env).filter((name) => !variables.has(name))).toEqual([]);
      const config = validateEnv(env);
      expect(config.nodeEnv).toBe('production');
      expect(config.database.migrationsRun).toBe(false);
      expect(config.http.shutdownDelaySeconds).toBeGreaterThan(0);
    });

    it('runs as non-root on a read-only root filesystem, with resources', () => {
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const spec of [pod, find(manifests, 'Job').spec.template.spec]) {
        for (const c of spec.containers) {
          expect(c.securityContext).toMatchObject({
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ['ALL'] },
          });
          expect(c.resources.requests).toEqual(
            expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }),
          );
          expect(c.resources.limits.memory).toEqual(expect.any(String));
        }
      }
    });

    it("probes the app's health routes on the app's port, and exposes the metrics port", () => {
      const config = validateEnv(env);
      const containerPorts = container.ports as { name: string; containerPort: number }[];
      const ports = Object.fromEntries(containerPorts.map((p) => [p.name, p.containerPort]));
      expect(ports).toEqual({ http: config.http.port, metrics: 9464 });
      expect(config.http.port).toBe(defaults.http.port);
      expect(container.livenessProbe.httpGet).toEqual({ path: '/api/health', port: 'http' });
      expect(container.startupProbe.httpGet).toEqual({ path: '/api/health', port: 'http' });
      expect(container.readinessProbe.httpGet).toEqual({
        path: '/api/health/ready',
        port: 'http',
      });
      expect(documentedPaths()).toEqual(
        expect.arrayContaining(['/api/health', '/api/health/ready']),
      );
      expect(deployment.spec.template.metadata.annotations).toMatchObject({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(ports.metrics),
      });
      const servicePorts = find(manifests, 'Service').spec.ports as { targetPort: string }[];
      expect(servicePorts.map((p) => p.targetPort)).toEqual(['http', 'metrics']);
    });

    it('gives the shutdown (preStop, delay, drain) time to finish before the SIGKILL', () => {
      const preStop = container.lifecycle.preStop.exec.command as string[];
      expect(preStop.slice(0, 1)).toEqual(['sleep']);
      const preStopSeconds = Number(preStop[1]);
      const { shutdownDelaySeconds, requestTimeoutMs } = validateEnv(env).http;
      const drainSeconds = Math.min(requestTimeoutMs, MAX_DRAIN_MS) / 1000;
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(
        preStopSeconds + shutdownDelaySeconds + drainSeconds,
      );
      // Readiness must turn within the delay, or the delay buys nothing.
      const probe = container.readinessProbe;
      expect(probe.periodSeconds * probe.failureThreshold).toBeLessThanOrEqual(
        shutdownDelaySeconds,
      );
    });

    it('selects the API pods everywhere, and runs the migrations once in a Job', () => {
      const podLabels = deployment.spec.template.metadata.labels as Record<string, string>;
      const selects = (selector: Record<string, string>) =>
        Object.entries(selector).every(([key, value]) => podLabels[key] === value);
      expect(selects(deployment.spec.selector.matchLabels)).toBe(true);
      expect(selects(find(manifests, 'Service').spec.selector)).toBe(true);
      expect(selects(find(manifests, 'PodDisruptionBudget').spec.selector.matchLabels)).toBe(true);
      expect(selects(find(manifests, 'NetworkPolicy').spec.podSelector.matchLabels)).toBe(true);
      expect(find(manifests, 'HorizontalPodAutoscaler').spec.scaleTargetRef).toEqual({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: deployment.metadata.name,
      });

      const job = find(manifests, 'Job').spec.template.spec;
      const command = job.containers[0].command as string[];
      expect(command).toEqual([
        'node',
        'node_modules/typeorm/cli.js',
        'migration:run',
        '-d',
        'dist/src/database/data-source.js',
      ]);
      expect(job.containers[0].image).toBe(container.image);
      expect(job.containers[0].envFrom).toEqual(container.envFrom);
      // Both files are in the image: the built data source, and typeorm among the runtime deps.
      expect(existsSync(join(ROOT, command[4]))).toBe(true);
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
        dependencies: Record<string, string>;
      };
      expect(Object.keys(pkg.dependencies)).toContain('typeorm');
    });
  });

  it('the example overlay sets the image and keeps the base resources', () => {
    const overlay = parse(readFileSync(join(OVERLAY, 'kustomization.yaml'), 'utf8')) as {
      images: { name: string }[];
    };
    const base = find(render(BASE), 'Deployment');
    expect(overlay.images.map((image) => image.name)).toEqual([
      base.spec.template.spec.containers[0].image,
    ]);
    expect(render(OVERLAY).length).toBe(render(BASE).length + 1);
  });

  describe('Dockerfile', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));

    it('copies the built app, its migrations and the runtime dependencies, and runs main.js unprivileged', () => {
      expect(runtime).toMatch(/COPY --from=prod-deps \/app\/node_modules \.\/node_modules/);
      expect(runtime).toMatch(/COPY --from=build \/app\/dist\/src \.\/dist\/src/);
      expect(runtime).toMatch(/COPY --from=build \/app\/dist\/migrations \.\/dist\/migrations/);
      expect(runtime).toMatch(/^USER node$/m);
      expect(runtime).toMatch(/^CMD \["node", "dist\/src\/main\.js"\]$/m);
      expect(existsSync(join(ROOT, 'dist', 'src', 'main.js'))).toBe(true);
      expect(existsSync(join(ROOT, 'dist', 'migrations'))).toBe(true);
    });

    it("runs Node with the memory flags of npm start (README, 'Memory')", () => {
      const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      };
      const flags = (script: string) => script.split(' ').filter((word) => word.startsWith('--'));
      expect(flags(scripts.start).length).toBeGreaterThan(0);
      expect(flags(scripts['start:prod'])).toEqual(flags(scripts.start));
      const nodeOptions = /^ENV NODE_OPTIONS="?([^"\n]*)"?$/m.exec(runtime)?.[1];
      expect(nodeOptions?.split(' ')).toEqual(flags(scripts.start));
    });

    it("exposes the app's port and the metrics port, and checks readiness", () => {
      expect(runtime).toMatch(new RegExp(`^EXPOSE ${defaults.http.port} 9464$`, 'm'));
      expect(runtime).toMatch(/HEALTHCHECK[\s\S]*\/api\/health\/ready/);
    });
  });

  describe('docker-compose.yml', () => {
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, Record<string, unknown>>;
    };
    const api = compose.services.api as {
      environment: Record<string, string>;
      ports: string[];
      healthcheck: { test: string[] };
      stop_grace_period: string;
    };

    it('sets only variables the app reads, with values it accepts', () => {
      expect(Object.keys(api.environment).filter((name) => !variables.has(name))).toEqual([]);
      expect(validateEnv(api.environment).http.shutdownDelaySeconds).toBeGreaterThan(0);
    });

    it('publishes the API and metrics ports and checks readiness', () => {
      expect(api.ports).toEqual([
        `127.0.0.1:${defaults.http.port}:${defaults.http.port}`,
        '127.0.0.1:9464:9464',
      ]);
      expect(api.healthcheck.test.join(' ')).toContain('/api/health/ready');
    });

    it('gives the shutdown time to finish before the SIGKILL', () => {
      const { shutdownDelaySeconds } = validateEnv(api.environment).http;
      const grace = Number(/^(\d+)s$/.exec(api.stop_grace_period)?.[1]);
      expect(grace).toBeGreaterThan(shutdownDelaySeconds + MAX_DRAIN_MS / 1000);
    });
  });
});
