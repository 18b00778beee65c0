/**
 * The API's answers as the dashboard reads them: the shapes are declared once, with the app's
 * (lib/contracts/responses.d.ts); this module only names them as the pages do. Types only, apart
 * from the runtime statuses that end an instance.
 */

export type {
  CompensationStatus as Compensation,
  DataverseRecordRef,
  DeploymentSummary as Deployment,
  FieldConflict,
  InstanceSummary,
  InstanceView,
  LookupNames,
  RollbackPlan,
  RollbackPoint,
  RollbackPointListed,
  SagaStatus,
  StepError,
  StepStatus as Step,
  TouchedResource as Resource,
  UndoAction,
} from '../lib/contracts/responses';

export const FINAL_STATUSES = ['Completed', 'Failed', 'Terminated', 'Canceled'];
