export type SegmentType = 'flat' | 'vlan' | 'vxlan' | 'gre';

export interface Network {
  id: string;
  label: string;
  /** Neutron provider:network_type / segmentation_id. */
  segmentType: SegmentType;
  segmentationId?: number;
  bridge?: string;
  cidr?: string;
}

/** One virtual interface (Neutron port) of an instance. */
export interface Vif {
  id: string;
  address: string; // MAC
  network: Network;
  fixedIps?: string[];
  /** Host-side device name, if the driver chose one. */
  devName?: string;
}

export type NetworkInfo = Vif[];
