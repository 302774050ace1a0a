/**
 * The ports the console's inventory, software and services pages read through (ADR 0018). The
 * composition root passes implementations adapted from InventoryService and SoftwareService
 * (AppOptions.consolePorts); a server without them answers those pages with 503.
 */
import type { InventoryPort } from './inventory/inventory-port.js';
import type { SoftwarePort } from './software/software-port.js';

export interface ConsolePorts {
  readonly inventory?: InventoryPort;
  readonly software?: SoftwarePort;
}
