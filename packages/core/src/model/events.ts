/** Nova's virt lifecycle events (nova/virt/event.py). */
export type LifecycleTransition =
  | 'STARTED'
  | 'STOPPED'
  | 'PAUSED'
  | 'RESUMED'
  | 'SUSPENDED'
  | 'POSTCOPY_STARTED'
  | 'MIGRATION_COMPLETED';

export interface LifecycleEvent {
  uuid: string;
  name: string;
  transition: LifecycleTransition;
  timestamp: number;
}

export type LifecycleListener = (event: LifecycleEvent) => void;
