/**
 * What the software and services pages (ADR 0018 §6–7) need from the server, in the API's shapes
 * (schemas/api/software.ts). The console router is given an implementation (ConsolePorts); the
 * composition root adapts SoftwareService to it, one line per method. When a server has none, the
 * pages answer 503 and say so (and the inventory host page leaves its software part out).
 */
import type { PackageManager, PackageTable, PackageUpgradeRequest, ServiceActionRequest, ServiceTable, SoftwareActionResult } from '../../../schemas/api/software.js';
import type { InventoryActor } from '../inventory/inventory-port.js';

export interface PackageQuery {
  readonly host?: string;
  readonly name?: string;
  readonly manager?: PackageManager;
  readonly after?: string;
  readonly limit: number;
}

export interface ServiceQuery {
  readonly host?: string;
  readonly name?: string;
  readonly after?: string;
  readonly limit: number;
}

export interface SoftwarePort {
  /** GET /api/v1/software/packages: rows (per host, or per package with ?name), tracked packages and the fleet view. */
  packages(q: PackageQuery): Promise<PackageTable>;
  /** GET /api/v1/software/services: rows per host and service, drift flagged. */
  services(q: ServiceQuery): Promise<ServiceTable>;
  /** "Upgrade to approved": a job rollout of a package resource (or one job without a policy). */
  upgrade(manager: PackageManager, name: string, req: PackageUpgradeRequest, by: InventoryActor): Promise<SoftwareActionResult>;
  /** Start/stop/restart a tracked service on the targets: an audited job (a job rollout with a policy). */
  serviceAction(name: string, req: ServiceActionRequest, by: InventoryActor): Promise<SoftwareActionResult>;
}
