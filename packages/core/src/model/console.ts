export type ConsoleType = 'vnc' | 'rdp' | 'spice' | 'serial';

export interface ConsoleInfo {
  type: ConsoleType;
  host: string;
  port: number;
  password?: string;
  tlsPort?: number;
  /** Set when a proxy has to route to the instance by name (shared VRDE port). */
  internalAccessPath?: string;
}
