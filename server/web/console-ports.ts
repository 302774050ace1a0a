/**
 * The ports the console's inventory, software and services pages read through (ADR 0018), and
 * their adapters over InventoryService and SoftwareService: one line per method. The console
 * router builds them from the composed services unless the app is given others
 * (AppOptions.consolePorts, for tests); a server without a service answers its pages with 503.
 */
import type { InventoryHostDetail, InventoryHostList } from '../../schemas/api/inventory.js';
import type { InventoryService } from '../services/inventory/inventory-service.js';
import type { SoftwareService } from '../services/software/software-service.js';
import type { InventoryPort } from './inventory/inventory-port.js';
import type { SoftwarePort } from './software/software-port.js';

export interface ConsolePorts {
  readonly inventory?: InventoryPort;
  readonly software?: SoftwarePort;
}

/** The inventory pages' port over InventoryService (its answers are the API's, schemas/api/inventory.ts). */
export function inventoryPort(inv: InventoryService): InventoryPort {
  return {
    list: async (q, signal) => (await inv.list(q, signal)) as InventoryHostList,
    detail: async (host, signal) => (await inv.detail(host, signal)) as InventoryHostDetail | undefined,
    patch: (host, patch, by) => inv.patch(host, patch, by),
    importFile: (body, opts, by) => inv.import(body.toString('utf8'), opts, by),
    exportFile: (format) => inv.export(format),
  };
}

/** The software and services pages' port over SoftwareService. */
export function softwarePort(sw: SoftwareService): SoftwarePort {
  return {
    packages: (q) => sw.packageTable(q),
    services: (q) => sw.serviceTable(q),
    upgrade: (manager, name, req, by) => sw.upgrade(manager, name, req, by),
    serviceAction: (name, req, by) => sw.serviceAction(name, req, by),
  };
}

/** The ports of the composed services (each only when this server has the service). */
export function consolePortsOf(services: { readonly inventory?: InventoryService; readonly software?: SoftwareService }): ConsolePorts {
  return { ...(services.inventory ? { inventory: inventoryPort(services.inventory) } : {}), ...(services.software ? { software: softwarePort(services.software) } : {}) };
}
