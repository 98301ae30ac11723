/**
 * Renders every kustomize overlay with `kubectl kustomize` and checks the result: each object is
 * validated against the Kubernetes OpenAPI schema (kubernetes-models), the expected objects are
 * there, and the properties the platform relies on (non-root, read-only root, resources, gRPC
 * probes, replica counts, the migration Job, the projected service-account tokens and the access policy) hold. Needs kubectl (>= 1.27) on the PATH or in
 * $KUBECTL; without it this test fails rather than skipping.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import * as appsV1 from "kubernetes-models/apps/v1";
import * as autoscalingV2 from "kubernetes-models/autoscaling/v2";
import * as batchV1 from "kubernetes-models/batch/v1";
import * as networkingV1 from "kubernetes-models/networking.k8s.io/v1";
import * as policyV1 from "kubernetes-models/policy/v1";
import * as coreV1 from "kubernetes-models/v1";
import { loadAuthConfig, parsePolicy, roleIn } from "@provenance/shared/auth";

const KUSTOMIZE_DIR = fileURLToPath(new URL("../kustomize/", import.meta.url));
const KUBECTL = process.env.KUBECTL ?? "kubectl";

const SERVICES = { receipts: 7101, staleness: 7102, regeneration: 7103 } as const;
type ServiceName = keyof typeof SERVICES;
const SERVICE_NAMES = Object.keys(SERVICES) as ServiceName[];

/** A rendered object, loosely typed: the schema check is what gives it shape. */
 
type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [key: string]: any };
 
type Json = any;

interface ModelClass {
  apiVersion: string;
  kind: string;
  new (data: Json): { validate(): void };
}

/** Every model class of the API groups the manifests may use, by "apiVersion/kind". */
const MODELS: ReadonlyMap<string, ModelClass> = (() => {
  const map = new Map<string, ModelClass>();
  for (const group of [coreV1, appsV1, autoscalingV2, batchV1, networkingV1, policyV1]) {
    for (const value of Object.values(group) as unknown[]) {
      const model = value as Partial<ModelClass>;
      if (typeof value === "function" && typeof model.apiVersion === "string" && typeof model.kind === "string") {
        map.set(`${model.apiVersion}/${model.kind}`, value as ModelClass);
      }
    }
  }
  return map;
})();

/** Validates one object against its Kubernetes schema; throws on an unknown kind or a violation. */
function validateObject(obj: K8sObject): void {
  const Model = MODELS.get(`${obj.apiVersion}/${obj.kind}`);
  if (!Model) throw new Error(`no schema for ${obj.apiVersion} ${obj.kind} "${obj.metadata?.name}"`);
  const data = structuredClone(obj);
  // kubectl writes long Secret values as YAML literal blocks, i.e. base64 broken by newlines; the
  // API server's decoder skips \r and \n, the schema's "byte" format does not. Drop them first.
  if (obj.apiVersion === "v1" && obj.kind === "Secret" && data.data) {
    for (const key of Object.keys(data.data)) data.data[key] = String(data.data[key]).replace(/[\r\n]/g, "");
  }
  new Model(data).validate();
}

function render(overlay: string): K8sObject[] {
  let out: string;
  try {
    out = execFileSync(KUBECTL, ["kustomize", `${KUSTOMIZE_DIR}overlays/${overlay}`], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === "ENOENT") {
      throw new Error(
        `kubectl not found (tried "${KUBECTL}"): the kustomize test needs kubectl >= 1.27 on the PATH or KUBECTL=/path/to/kubectl`,
      );
    }
    throw new Error(`kubectl kustomize overlays/${overlay} failed: ${e.stderr ?? e.message}`);
  }
  const docs = parseAllDocuments(out);
  const objects: K8sObject[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`overlay ${overlay} rendered invalid YAML: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as K8sObject | null;
    if (value !== null) objects.push(value);
  }
  return objects;
}

function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  expect(found, `${kind} ${name}`).toHaveLength(1);
  return found[0]!;
}

/** Bytes of a Kubernetes memory quantity in Mi or Gi ("384Mi", "1Gi"). */
function bytesOf(quantity: string): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!m) throw new Error(`memory quantity ${quantity}: expected <n>Mi or <n>Gi`);
  return Number(m[1]) * 2 ** (m[2] === "Gi" ? 30 : 20);
}

function podSpecOf(obj: K8sObject): Json {
  return obj.spec.template.spec;
}

function allContainers(podSpec: Json): Json[] {
  return [...(podSpec.initContainers ?? []), ...podSpec.containers];
}

/** Checks every container of a pod template: non-root, read-only root, no privilege, resources, /tmp. */
function expectHardenedPod(owner: string, podSpec: Json): void {
  expect(podSpec.securityContext?.runAsNonRoot, `${owner} pod runAsNonRoot`).toBe(true);
  expect(podSpec.securityContext?.seccompProfile?.type, `${owner} pod seccomp`).toBe("RuntimeDefault");
  expect(podSpec.automountServiceAccountToken, `${owner} token`).toBe(false);
  const tmp = (podSpec.volumes ?? []).find((v: Json) => v.name === "tmp");
  expect(tmp?.emptyDir, `${owner} /tmp emptyDir`).toBeDefined();
  for (const c of allContainers(podSpec)) {
    const where = `${owner}/${c.name}`;
    const sc = c.securityContext ?? {};
    expect(sc.runAsNonRoot, `${where} runAsNonRoot`).toBe(true);
    expect(sc.runAsUser, `${where} runAsUser`).toBe(10001);
    expect(sc.readOnlyRootFilesystem, `${where} readOnlyRootFilesystem`).toBe(true);
    expect(sc.allowPrivilegeEscalation, `${where} allowPrivilegeEscalation`).toBe(false);
    expect(sc.capabilities?.drop, `${where} capabilities`).toEqual(["ALL"]);
    expect(sc.seccompProfile?.type, `${where} seccomp`).toBe("RuntimeDefault");
    for (const kind of ["requests", "limits"] as const) {
      expect(c.resources?.[kind]?.cpu, `${where} ${kind}.cpu`).toBeTruthy();
      expect(c.resources?.[kind]?.memory, `${where} ${kind}.memory`).toBeTruthy();
    }
    expect(c.volumeMounts, `${where} mounts /tmp`).toContainEqual({ name: "tmp", mountPath: "/tmp" });
    expect(c.image, `${where} image was replaced by kustomize`).toMatch(/^[^\s]+\/provenance\/[a-z]+(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$/);
  }
}

/** The database env of a container: DATABASE_URL (required) and MIGRATION_DATABASE_URL (optional) from `secretName`. */
function expectDatabaseEnv(where: string, container: Json, secretName: string): void {
  const env = new Map<string, Json>((container.env ?? []).map((e: Json) => [e.name, e]));
  expect(env.get("DATABASE_URL")?.valueFrom?.secretKeyRef, `${where} DATABASE_URL`).toEqual({ name: secretName, key: "uri" });
  expect(env.get("MIGRATION_DATABASE_URL")?.valueFrom?.secretKeyRef, `${where} MIGRATION_DATABASE_URL`).toEqual({
    name: secretName,
    key: "migration-uri",
    optional: true,
  });
  for (const e of env.values()) expect(String(e.value ?? ""), `${where} ${e.name} must not be a literal URL`).not.toMatch(/^postgres/);
}

const OVERLAYS = ["dev", "prod"] as const;

describe("the schema validator", () => {
  it("rejects an invalid object, so the overlay checks cannot pass vacuously", () => {
    const broken: K8sObject = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "broken" },
      spec: {
        replicas: "three",
        selector: { matchLabels: { app: "x" } },
        template: { metadata: { labels: { app: "x" } }, spec: { containers: [{ name: "x", image: "x" }] } },
      },
    };
    expect(() => validateObject(broken)).toThrow(/replicas/);
    const missingContainers = structuredClone(broken);
    missingContainers.spec.replicas = 1;
    delete missingContainers.spec.template.spec.containers;
    expect(() => validateObject(missingContainers)).toThrow(/containers/);
    const badProbe = structuredClone(broken);
    badProbe.spec.replicas = 1;
    badProbe.spec.template.spec.containers[0].readinessProbe = { grpc: { port: "grpc" } };
    expect(() => validateObject(badProbe)).toThrow(/port/);
    // The same object, fixed, passes: the validator is not simply rejecting everything.
    broken.spec.replicas = 3;
    expect(() => validateObject(broken)).not.toThrow();
  });

  it("rejects a kind it has no schema for", () => {
    expect(() => validateObject({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } })).toThrow(
      /no schema/,
    );
  });
});

describe.each(OVERLAYS)("overlay %s", (overlay) => {
  const objects = render(overlay);
  const namespace = overlay === "prod" ? "provenance" : "provenance-dev";

  it("renders objects that all pass the Kubernetes schema", () => {
    expect(objects.length).toBeGreaterThan(15);
    for (const obj of objects) {
      try {
        validateObject(obj);
      } catch (err) {
        throw new Error(`${overlay}: ${obj.kind} ${obj.metadata?.name} is invalid: ${(err as Error).message}`);
      }
    }
  });

  it("has the expected object set, all in one namespace", () => {
    for (const svc of SERVICE_NAMES) {
      for (const kind of ["Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"]) {
        find(objects, kind, svc);
      }
    }
    for (const kind of ["Deployment", "Service", "NetworkPolicy"]) find(objects, kind, "console");
    find(objects, "Job", "provenance-migrate");
    find(objects, "NetworkPolicy", "provenance-migrate");
    find(objects, "ServiceAccount", "provenance");
    for (const name of [...SERVICE_NAMES, "console"]) find(objects, "ServiceAccount", name);
    find(objects, "Namespace", namespace);
    expect(objects.filter((o) => o.kind === "ConfigMap").map((o) => o.metadata.name.replace(/-[a-z0-9]+$/, "")).sort()).toEqual([
      "provenance-auth-policy",
      "provenance-config",
    ]);
    for (const obj of objects) {
      if (obj.kind !== "Namespace") expect(obj.metadata.namespace, `${obj.kind} ${obj.metadata.name}`).toBe(namespace);
      expect(obj.metadata.labels?.["app.kubernetes.io/part-of"], `${obj.kind} ${obj.metadata.name} labels`).toBe(
        obj.kind === "Namespace" ? undefined : "provenance",
      );
    }
    const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(new Set(names).size, "no duplicates").toBe(names.length);
  });

  /** The settings ConfigMap (generated, so its name carries a hash). */
  const configMap = () => objects.find((o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("provenance-config-"))!;

  it("configures every service from the ConfigMap with cluster DNS URLs", () => {
    const cm = configMap();
    expect(cm.metadata.name).toMatch(/^provenance-config-[a-z0-9]+$/);
    expect(cm.data.NATS_URL).toMatch(/^nats:\/\/[a-z0-9.-]+:4222$/);
    for (const svc of SERVICE_NAMES) {
      const key = `${svc.toUpperCase()}_URL`;
      expect(cm.data[key]).toBe(`http://${svc}.${namespace}.svc.cluster.local:${SERVICES[svc]}`);
    }
    expect(cm.data.LOG_LEVEL).toBe(overlay === "dev" ? "debug" : "info");
    expect(Object.keys(cm.data).some((k) => k.includes("DATABASE")), "no database URL in the ConfigMap").toBe(false);
    const pods = [...SERVICE_NAMES.map((s) => find(objects, "Deployment", s)), find(objects, "Job", "provenance-migrate")];
    for (const owner of pods) {
      for (const c of allContainers(podSpecOf(owner))) {
        expect(c.envFrom, `${owner.metadata.name}/${c.name} envFrom`).toContainEqual({ configMapRef: { name: cm.metadata.name } });
      }
    }
  });

  it("runs each service hardened, with resources and gRPC probes on its port", () => {
    for (const svc of SERVICE_NAMES) {
      const port = SERVICES[svc];
      const deploy = find(objects, "Deployment", svc);
      const pod = podSpecOf(deploy);
      expectHardenedPod(`Deployment ${svc}`, pod);
      expect(pod.serviceAccountName, `${svc} runs as its own service account`).toBe(svc);
      expect(pod.topologySpreadConstraints?.length, `${svc} spread`).toBeGreaterThan(0);
      expect(deploy.spec.selector.matchLabels).toEqual({ "app.kubernetes.io/name": svc, "app.kubernetes.io/instance": "provenance" });
      for (const [k, v] of Object.entries(deploy.spec.selector.matchLabels)) expect(deploy.spec.template.metadata.labels[k]).toBe(v);
      expect(pod.containers).toHaveLength(1);
      const c = pod.containers[0];
      expect(c.image).toContain(`/provenance/${svc}`);
      expect(c.ports).toEqual([{ name: "grpc", containerPort: port, protocol: "TCP" }]);
      expect(c.env).toContainEqual({ name: "PORT", value: String(port) });
      // A V8 heap bound well inside the container's memory limit (the benchmark runs the service with the same one).
      const heapMiB = Number(/^--max-old-space-size=(\d+)$/.exec(c.env.find((e: { name: string }) => e.name === "NODE_OPTIONS")?.value ?? "")?.[1]);
      expect(heapMiB, `${svc} NODE_OPTIONS --max-old-space-size`).toBeGreaterThan(0);
      expect(heapMiB * 2 ** 20 * 2, `${svc} heap bound within half its memory limit`).toBeLessThanOrEqual(bytesOf(c.resources.limits.memory));
      // Readiness and startup include the database and NATS; liveness ("liveness") leaves them out,
      // so an outage takes pods out of rotation without restarting them.
      for (const probe of ["readinessProbe", "startupProbe"]) {
        expect(c[probe]?.grpc, `${svc} ${probe}`).toEqual({ port, service: "" });
      }
      expect(c.livenessProbe?.grpc, `${svc} livenessProbe`).toEqual({ port, service: "liveness" });
      expect(c.args ?? [], `${svc} runs the server, not the migrations`).not.toContain("--migrate-only");
      expect(c.command, `${svc} uses the image entry point`).toBeUndefined();
      expectDatabaseEnv(`Deployment ${svc}`, c, secretName());

      const service = find(objects, "Service", svc);
      expect(service.spec.type).toBe("ClusterIP");
      expect(service.spec.selector).toEqual(deploy.spec.selector.matchLabels);
      expect(service.spec.ports).toEqual([
        { name: "grpc", port, targetPort: "grpc", protocol: "TCP", appProtocol: "kubernetes.io/h2c" },
      ]);
    }
  });

  it("scales, budgets disruptions and restricts traffic per service", () => {
    for (const svc of SERVICE_NAMES) {
      const deploy = find(objects, "Deployment", svc);
      const hpa = find(objects, "HorizontalPodAutoscaler", svc);
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: svc });
      expect(hpa.spec.metrics).toContainEqual({
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
      });
      expect(hpa.spec.minReplicas).toBe(deploy.spec.replicas);
      expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);

      const pdb = find(objects, "PodDisruptionBudget", svc);
      expect(pdb.spec.selector.matchLabels).toEqual(deploy.spec.selector.matchLabels);
      expect(pdb.spec.minAvailable, `${svc} PDB leaves room for one eviction`).toBeLessThan(deploy.spec.replicas);

      const np = find(objects, "NetworkPolicy", svc);
      expect(np.spec.podSelector.matchLabels).toEqual(deploy.spec.selector.matchLabels);
      expect(np.spec.policyTypes).toEqual(["Ingress", "Egress"]);
      for (const rule of np.spec.ingress) expect(rule.ports).toEqual([{ protocol: "TCP", port: SERVICES[svc] }]);
      const sources = np.spec.ingress.flatMap((r: Json) => r.from);
      expect(sources).toContainEqual({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } });
      const peerLabels = { "app.kubernetes.io/part-of": "provenance", "app.kubernetes.io/component": "api" };
      expect(sources).toContainEqual({ podSelector: { matchLabels: peerLabels } });
      expect(sources, `${svc} lets the web console proxy in`).toContainEqual({
        podSelector: { matchLabels: { "app.kubernetes.io/name": "console", "app.kubernetes.io/instance": "provenance" } },
      });
      for (const [k, v] of Object.entries(peerLabels)) expect(deploy.spec.template.metadata.labels[k]).toBe(v);
      const egressPorts = np.spec.egress.flatMap((r: Json) => r.ports.map((p: Json) => `${p.protocol}/${p.port}`));
      for (const p of ["UDP/53", "TCP/53", "TCP/5432", "TCP/4222", "TCP/7101", "TCP/7102", "TCP/7103"]) {
        expect(egressPorts, `${svc} egress ${p}`).toContain(p);
      }
    }
  });

  it("runs the web console hardened, reaching only the three services", () => {
    const deploy = find(objects, "Deployment", "console");
    const pod = podSpecOf(deploy);
    expectHardenedPod("Deployment console", pod);
    const c = pod.containers[0];
    expect(c.image).toContain("/provenance/console");
    expect(c.ports).toEqual([{ name: "http", containerPort: 7100, protocol: "TCP" }]);
    for (const probe of ["readinessProbe", "livenessProbe"]) expect(c[probe]?.httpGet?.port, probe).toBe("http");
    const urls = c.env.filter((e: Json) => /_URL$/.test(e.name)).map((e: Json) => e.name).sort();
    expect(urls).toEqual(["RECEIPTS_URL", "REGENERATION_URL", "STALENESS_URL"]);
    expect(find(objects, "Service", "console").spec.ports).toEqual([{ name: "http", port: 7100, targetPort: "http", protocol: "TCP" }]);
    const np = find(objects, "NetworkPolicy", "console");
    const egressPorts = np.spec.egress.flatMap((r: Json) => r.ports.map((p: Json) => `${p.protocol}/${p.port}`)).sort();
    // 443: the OpenID Connect provider people sign in with.
    expect(egressPorts).toEqual(["TCP/443", "TCP/53", "TCP/7101", "TCP/7102", "TCP/7103", "UDP/53"]);
    expect(pod.serviceAccountName).toBe("console");
    expect(c.envFrom, "console sign-in settings").toContainEqual({ secretRef: { name: "provenance-console-oidc", optional: true } });
  });

  it("gives every Deployment a projected service-account token (audience provenance) as its SERVICE_TOKEN_FILE", () => {
    const deployments = objects.filter((o) => o.kind === "Deployment");
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(["console", ...SERVICE_NAMES].sort());
    for (const deploy of deployments) {
      const where = `Deployment ${deploy.metadata.name}`;
      const pod = podSpecOf(deploy);
      expect(pod.automountServiceAccountToken, `${where}: no API token`).toBe(false);
      const volume = (pod.volumes ?? []).find((v: Json) => v.name === "provenance-token");
      const sources = volume?.projected?.sources ?? [];
      expect(sources, `${where} token source`).toContainEqual({ serviceAccountToken: { audience: "provenance", expirationSeconds: 3600, path: "token" } });
      expect(sources, `${where} cluster CA`).toContainEqual({ configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } });
      const c = pod.containers[0];
      expect(c.volumeMounts, `${where} mounts the token`).toContainEqual({ name: "provenance-token", mountPath: "/var/run/secrets/provenance", readOnly: true });
      expect(c.env, `${where} SERVICE_TOKEN_FILE`).toContainEqual({ name: "SERVICE_TOKEN_FILE", value: "/var/run/secrets/provenance/token" });
      expect(c.env, `${where} NODE_EXTRA_CA_CERTS`).toContainEqual({ name: "NODE_EXTRA_CA_CERTS", value: "/var/run/secrets/provenance/ca.crt" });
    }
  });

  it("checks callers: AUTH_JWKS, AUTH_ISSUER, AUTH_AUDIENCE=provenance and AUTH_POLICY, a policy ConfigMap mounted as a file with grants for the workloads", () => {
    const cm = configMap();
    expect(cm.data.AUTH_AUDIENCE).toBe("provenance");
    expect(cm.data.AUTH_JWKS).toMatch(/^https:\/\/[^\s]+$/);
    expect(cm.data.AUTH_ISSUER).toMatch(/^https:\/\/[^\s]+$/);
    expect(cm.data.AUTH_POLICY).toBe("/etc/provenance/policy/policy.yaml");
    // What a service reads from these (with its token file) is a valid identity-and-access configuration.
    const config = loadAuthConfig({ ...cm.data, SERVICE_TOKEN_FILE: "/var/run/secrets/provenance/token" });
    expect(config).toMatchObject({ jwks: { kind: "url" }, audience: "provenance", policyFile: cm.data.AUTH_POLICY });
    const policyMap = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("provenance-auth-policy-"))!;
    const policy = parsePolicy(policyMap.data["policy.yaml"]);
    const account = (name: string) => ({ subject: `system:serviceaccount:${namespace}:${name}`, groups: [] });
    for (const svc of SERVICE_NAMES) {
      // The services act for their callers (forwarding the callers' tokens), so their own accounts hold nothing.
      expect(roleIn(policy, account(svc), "any-project"), `${svc}'s own account`).toBeUndefined();
      const pod = podSpecOf(find(objects, "Deployment", svc));
      expect(pod.volumes, `${svc} policy volume`).toContainEqual({ name: "auth-policy", configMap: { name: policyMap.metadata.name } });
      expect(pod.containers[0].volumeMounts, `${svc} mounts the policy (a directory, so edits arrive)`).toContainEqual({
        name: "auth-policy",
        mountPath: "/etc/provenance/policy",
        readOnly: true,
      });
    }
    expect(roleIn(policy, account("pipeline-simulator"), "any-project"), "the simulator records receipts").toBe("pipeline");
    if (overlay === "prod") expect(roleIn(policy, { subject: "system:serviceaccount:pipelines:comfy-runner", groups: [] }, "42")).toBe("pipeline");
    expect(roleIn(policy, { subject: "someone", groups: ["provenance-admins"] }, "any-project")).toBe("admin");
    // The migration Job reads the same ConfigMap, so its --migrate-only run has every required variable.
    for (const c of allContainers(podSpecOf(find(objects, "Job", "provenance-migrate")))) {
      expect(c.envFrom).toContainEqual({ configMapRef: { name: cm.metadata.name } });
    }
  });

  it("mounts the receipt log's signing key into the receipts pods only, read-only from the Secret receipt-log-signing-key", () => {
    const keyFile = "/etc/provenance/receipt-log/signing-key.pem";
    const pod = podSpecOf(find(objects, "Deployment", "receipts"));
    expect(pod.volumes).toContainEqual({
      name: "receipt-log-signing-key",
      secret: { secretName: "receipt-log-signing-key", defaultMode: 0o440, items: [{ key: "signing-key.pem", path: "signing-key.pem" }] },
    });
    const c = pod.containers[0];
    expect(c.volumeMounts).toContainEqual({ name: "receipt-log-signing-key", mountPath: "/etc/provenance/receipt-log", readOnly: true });
    expect(c.env).toContainEqual({ name: "RECEIPT_LOG_SIGNING_KEY", value: keyFile });
    expect(objects.filter((o) => o.kind === "Secret" && o.metadata.name.startsWith("receipt-log")), "the key is never committed").toEqual([]);
    const others = [...SERVICE_NAMES.filter((s) => s !== "receipts").map((s) => find(objects, "Deployment", s)), find(objects, "Deployment", "console"), find(objects, "Job", "provenance-migrate")];
    for (const obj of others) {
      expect(JSON.stringify(podSpecOf(obj)), `${obj.kind} ${obj.metadata.name} has no access to the key`).not.toContain("receipt-log-signing-key");
    }
  });

  it("runs every schema's migrations in one Job, in order, with --migrate-only", () => {
    const job = find(objects, "Job", "provenance-migrate");
    const pod = podSpecOf(job);
    expectHardenedPod("Job provenance-migrate", pod);
    expect(["Never", "OnFailure"]).toContain(pod.restartPolicy);
    const containers = allContainers(pod);
    expect(containers.map((c: Json) => c.name)).toEqual(SERVICE_NAMES.map((s) => `migrate-${s}`));
    for (const [i, svc] of SERVICE_NAMES.entries()) {
      const c = containers[i];
      expect(c.image).toContain(`/provenance/${svc}`);
      expect(c.image, "same image as the Deployment").toBe(podSpecOf(find(objects, "Deployment", svc)).containers[0].image);
      expect(c.command).toEqual(["node", "dist/main.js", "--migrate-only"]);
      expectDatabaseEnv(`Job/${c.name}`, c, secretName());
    }
    const np = find(objects, "NetworkPolicy", "provenance-migrate");
    expect(np.spec.podSelector.matchLabels).toEqual({
      "app.kubernetes.io/name": "provenance-migrate",
      "app.kubernetes.io/instance": "provenance",
    });
    for (const [k, v] of Object.entries(np.spec.podSelector.matchLabels)) expect(job.spec.template.metadata.labels[k]).toBe(v);
  });

  if (overlay === "dev") {
    it("dev: one replica, small requests, a generated dev-only Secret", () => {
      for (const svc of SERVICE_NAMES) {
        const deploy = find(objects, "Deployment", svc);
        expect(deploy.spec.replicas).toBe(1);
        expect(find(objects, "HorizontalPodAutoscaler", svc).spec.minReplicas).toBe(1);
        expect(find(objects, "PodDisruptionBudget", svc).spec.minAvailable).toBe(0);
        expect(podSpecOf(deploy).containers[0].resources.requests).toEqual({ cpu: "25m", memory: "128Mi" });
      }
      const secret = find(objects, "Secret", secretName());
      const uri = Buffer.from(secret.data.uri, "base64").toString("utf8");
      expect(uri).toMatch(/^postgresql:\/\/[^:]+:dev-only-[^@]+@postgres\.provenance-dev\.svc\.cluster\.local:5432\/provenance$/);
    });
  }

  if (overlay === "prod") {
    it("prod: at least 3 replicas, HPA 3-10, PDB 2, pinned images, Secret from CloudNativePG", () => {
      for (const svc of SERVICE_NAMES) {
        const deploy = find(objects, "Deployment", svc);
        expect(deploy.spec.replicas).toBeGreaterThanOrEqual(3);
        const hpa = find(objects, "HorizontalPodAutoscaler", svc);
        expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(3);
        expect(hpa.spec.maxReplicas).toBe(10);
        expect(find(objects, "PodDisruptionBudget", svc).spec.minAvailable).toBe(2);
        const c = podSpecOf(deploy).containers[0];
        expect(c.resources.requests).toEqual({ cpu: "500m", memory: "512Mi" });
        expect(c.resources.limits).toEqual({ cpu: "2", memory: "1Gi" });
      }
      for (const obj of objects.filter((o) => o.kind === "Deployment" || o.kind === "Job")) {
        for (const c of allContainers(podSpecOf(obj))) {
          expect(c.image, `${obj.metadata.name}/${c.name} pinned`).toMatch(/(:\d+\.\d+\.\d+[\w.-]*|@sha256:[0-9a-f]{64})$/);
          expect(c.image).not.toMatch(/:latest$/);
        }
      }
      expect(objects.filter((o) => o.kind === "Secret"), "prod commits no Secret").toEqual([]);
    });
  }

  /** The database Secret's name: generated (with a hash suffix) in dev, CloudNativePG's in prod. */
  function secretName(): string {
    if (overlay === "prod") return "provenance-db-app";
    const secrets = objects.filter((o) => o.kind === "Secret");
    expect(secrets).toHaveLength(1);
    expect(secrets[0]!.metadata.name).toMatch(/^provenance-db-app-[a-z0-9]+$/);
    return secrets[0]!.metadata.name;
  }
});
