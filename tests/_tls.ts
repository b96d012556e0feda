// Copyright 2026 the midisock authors. MIT license.
// Test helper: a throwaway certificate authority and a server certificate
// for localhost, 127.0.0.1 and ::1, made with openssl at run time.

/** The openssl program; .ci/run installs it when it is missing. */
export const OPENSSL = "openssl";

/** PEM files of a CA and of a server certificate that it signed. */
export interface TestCerts {
  /** The directory that holds them. */
  dir: string;
  /** The CA's certificate, to trust. */
  ca: string;
  /** The server's certificate chain. */
  cert: string;
  /** The server's private key. */
  key: string;
  /** The paths of those three files, for the CLI. */
  files: { ca: string; cert: string; key: string };
}

async function openssl(args: string[], dir: string): Promise<void> {
  const { code, stderr } = await new Deno.Command(OPENSSL, {
    args,
    cwd: dir,
    stdout: "null",
  }).output();
  if (code !== 0) {
    throw new Error(
      `openssl ${args[0]} failed: ${new TextDecoder().decode(stderr)}`,
    );
  }
}

/** Makes a CA and a server certificate in a new directory under /tmp. */
export async function makeCerts(): Promise<TestCerts> {
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "midisock-tls-" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  await openssl([
    "req",
    "-x509",
    ...ec,
    "-days",
    "1",
    "-subj",
    "/CN=midisock test CA",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
  ], dir);
  await openssl([
    "req",
    ...ec,
    "-subj",
    "/CN=localhost",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
  ], dir);
  await Deno.writeTextFile(
    `${dir}/ext.cnf`,
    "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n" +
      "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    "ext.cnf",
    "-out",
    "server.pem",
  ], dir);
  const files = {
    ca: `${dir}/ca.pem`,
    cert: `${dir}/server.pem`,
    key: `${dir}/server.key`,
  };
  return {
    dir,
    ca: await Deno.readTextFile(files.ca),
    cert: await Deno.readTextFile(files.cert),
    key: await Deno.readTextFile(files.key),
    files,
  };
}

/** Makes the certificates once for a test file, and removes them at the end. */
export async function withCerts<T>(
  f: (certs: TestCerts) => Promise<T>,
): Promise<T> {
  const certs = await makeCerts();
  try {
    return await f(certs);
  } finally {
    await Deno.remove(certs.dir, { recursive: true });
  }
}
