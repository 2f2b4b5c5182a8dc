// Who may do what: the node's API tokens (the bootstrap admin token from the config, the operator's
// tokens file, and those an admin made through the API), looked up by the SHA-256 of the secret a
// request presents, and each token's produce rate. When access control is off, every request is the
// anonymous admin and nothing is checked.
import type { Clock } from "../clock.ts";
import { SluiceError } from "../errors.ts";
import type { Storage } from "../storage/storage.ts";
import { type Grant, isAdmin } from "./grants.ts";
import { TOKENS_MAX } from "./limits.ts";
import { ProduceRateLimiter, type ProduceRates } from "./produce-rate.ts";
import { readOperatorTokens, readStoredTokens, writeStoredTokens } from "./token-files.ts";
import type { TokenInfo, TokenRecord } from "./token-record.ts";
import { tokenInfo } from "./token-record.ts";
import { hashesMatch, hashSecret, newSecret } from "./token-secret.ts";

/**
 * Who a request is: a token, the anonymous admin when access control is off, or (cluster mode) the
 * client a peer node forwards a request for, as that node vouches for it.
 */
export interface Principal {
  readonly name: string;
  readonly source: TokenRecord["source"] | "anonymous" | "forwarded";
  readonly grants: readonly Grant[];
}

export const ANONYMOUS: Principal = Object.freeze({
  name: "anonymous",
  source: "anonymous",
  grants: Object.freeze([{ role: "admin" }] as Grant[]),
});

/** The name the bootstrap admin token (authAdminToken) goes by. */
export const BOOTSTRAP_ADMIN_NAME = "admin";

export interface AccessControlOptions {
  enabled: boolean;
  /** authAdminToken: a secret that is an admin token, from the environment or a flag. */
  adminToken?: string | undefined;
  /** authTokensFile: the operator's file of hashed tokens. */
  tokensFile?: string | undefined;
  /** authMetrics: /metrics needs a token too. */
  metricsNeedToken?: boolean;
  /** Produce rates of tokens that set none (0: no limit). */
  defaultRates?: ProduceRates;
  storage: Storage;
  dataDir: string;
  clock: Clock;
}

export interface CreateTokenInput {
  name: string;
  grants: Grant[];
  produceBytesPerSecond?: number | undefined;
  produceRecordsPerSecond?: number | undefined;
}

type RevokedListener = (name: string) => void;

export class AccessControl {
  /** Every token by the hex SHA-256 of its secret. */
  readonly #byHash = new Map<string, TokenRecord>();
  readonly #byName = new Map<string, TokenRecord>();
  readonly #limiters = new Map<string, ProduceRateLimiter>();
  readonly #revokedListeners = new Set<RevokedListener>();
  readonly enabled: boolean;
  readonly metricsNeedToken: boolean;
  readonly defaultRates: ProduceRates;

  private constructor(readonly options: AccessControlOptions) {
    this.enabled = options.enabled;
    this.metricsNeedToken = options.metricsNeedToken ?? false;
    this.defaultRates = options.defaultRates ?? { bytesPerSecond: 0, recordsPerSecond: 0 };
  }

  /**
   * Loads every token. With access control on, one of them must be an admin, or no one could ever
   * make the others: INVALID_CONFIG names authAdminToken.
   */
  static open(options: AccessControlOptions): AccessControl {
    const access = new AccessControl(options);
    if (options.adminToken !== undefined) {
      access.#add({
        name: BOOTSTRAP_ADMIN_NAME,
        sha256: hashSecret(options.adminToken),
        grants: [{ role: "admin" }],
        source: "config",
      });
    }
    if (options.tokensFile !== undefined) {
      for (const token of readOperatorTokens(options.storage, options.tokensFile)) access.#add(token);
    }
    for (const token of readStoredTokens(options.storage, options.dataDir)) access.#add(token);
    if (access.enabled && ![...access.#byName.values()].some((token) => isAdmin(token.grants))) {
      throw new SluiceError(
        "INVALID_CONFIG",
        "authEnabled needs an admin token: set authAdminToken (SLUICE_AUTH_ADMIN_TOKEN), or give one in authTokensFile",
        { field: "authAdminToken" },
      );
    }
    return access;
  }

  /** Access control off, no tokens: for tests and embedders that serve without it. */
  static disabled(options: Pick<AccessControlOptions, "storage" | "dataDir" | "clock">): AccessControl {
    return AccessControl.open({ ...options, enabled: false });
  }

  /** The token a secret stands for; undefined for an unknown or revoked one. */
  authenticate(secret: string): Principal | undefined {
    const hash = hashSecret(secret);
    const token = this.#byHash.get(hash);
    // The map lookup is on a digest of the secret, which tells an attacker timing it nothing about
    // the secret; the final comparison is constant-time all the same.
    return token !== undefined && hashesMatch(token.sha256, hash) ? token : undefined;
  }

  /** Whether the token is still there (not revoked): connections re-check before each frame. */
  isCurrent(principal: Principal): boolean {
    return principal === ANONYMOUS || this.#byName.get(principal.name) === principal;
  }

  list(): TokenInfo[] {
    return [...this.#byName.values()].map(tokenInfo).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** A new API token: its secret is in the answer and nowhere else. */
  create(input: CreateTokenInput): { token: TokenInfo; secret: string } {
    if (this.#byName.has(input.name)) {
      throw new SluiceError("TOKEN_ALREADY_EXISTS", `a token named ${input.name} exists; revoke it first`, {
        field: "name",
      });
    }
    if (this.#byName.size >= TOKENS_MAX) {
      throw new SluiceError("TOO_MANY_TOKENS", `this node keeps at most ${TOKENS_MAX} tokens; revoke some`);
    }
    const secret = newSecret();
    const record: TokenRecord = {
      name: input.name,
      sha256: hashSecret(secret),
      grants: input.grants,
      source: "api",
      createdAtMs: this.options.clock.nowMs(),
      ...(input.produceBytesPerSecond === undefined
        ? {}
        : { produceBytesPerSecond: input.produceBytesPerSecond }),
      ...(input.produceRecordsPerSecond === undefined
        ? {}
        : { produceRecordsPerSecond: input.produceRecordsPerSecond }),
    };
    writeStoredTokens(this.options.storage, this.options.dataDir, [...this.#apiTokens(), record]);
    this.#add(record);
    return { token: tokenInfo(record), secret };
  }

  /** Revokes an API token at once: its requests answer 401 and its WebSockets are closed. */
  revoke(name: string): void {
    const token = this.#byName.get(name);
    if (token === undefined) {
      throw new SluiceError("TOKEN_NOT_FOUND", `no token named ${name}`, { field: "name" });
    }
    if (token.source !== "api") {
      const where = token.source === "config" ? "authAdminToken" : "authTokensFile";
      throw new SluiceError(
        "TOKEN_NOT_REVOCABLE",
        `${name} comes from ${where}: remove it there and restart`,
        {
          field: "name",
        },
      );
    }
    writeStoredTokens(
      this.options.storage,
      this.options.dataDir,
      this.#apiTokens().filter((other) => other !== token),
    );
    this.#byName.delete(name);
    this.#byHash.delete(token.sha256);
    this.#limiters.delete(name);
    for (const listener of this.#revokedListeners) listener(name);
  }

  /** Calls `listener` with each revoked token's name; returns the unsubscribe. */
  onRevoked(listener: RevokedListener): () => void {
    this.#revokedListeners.add(listener);
    return () => this.#revokedListeners.delete(listener);
  }

  /** The produce rates the principal is held to: its own, else the node's defaults; none when off. */
  ratesOf(principal: Principal): ProduceRates {
    if (!this.enabled || principal === ANONYMOUS) return { bytesPerSecond: 0, recordsPerSecond: 0 };
    const token = principal as TokenRecord;
    return {
      bytesPerSecond: token.produceBytesPerSecond ?? this.defaultRates.bytesPerSecond,
      recordsPerSecond: token.produceRecordsPerSecond ?? this.defaultRates.recordsPerSecond,
    };
  }

  /** The principal's produce rate limiter (one per token); undefined when its rates do not limit. */
  rateLimiterOf(principal: Principal): ProduceRateLimiter | undefined {
    if (!this.enabled || principal === ANONYMOUS) return undefined;
    let limiter = this.#limiters.get(principal.name);
    if (limiter === undefined) {
      limiter = new ProduceRateLimiter(this.ratesOf(principal), this.options.clock);
      this.#limiters.set(principal.name, limiter);
    }
    return limiter.limits ? limiter : undefined;
  }

  #apiTokens(): TokenRecord[] {
    return [...this.#byName.values()].filter((token) => token.source === "api");
  }

  #add(token: TokenRecord): void {
    const clash = this.#byName.get(token.name) ?? this.#byHash.get(token.sha256);
    if (clash !== undefined) {
      throw new SluiceError(
        "INVALID_CONFIG",
        `two tokens share the name or secret of ${clash.name} (from ${clash.source} and ${token.source})`,
        { field: token.source === "file" ? "authTokensFile" : "authAdminToken" },
      );
    }
    this.#byName.set(token.name, token);
    this.#byHash.set(token.sha256, token);
  }
}
