/**
 * Built-in business tables: contact, account, appointment, task and the Life Cockpit session table
 * (lc_session). Column names, entity set names and navigation properties follow Dataverse, so code
 * written against the simulator works unchanged on a real environment. Only definitions live here.
 */
import type { OptionDef } from './types';
import type { TableInput } from './define';

const options = (pairs: [number, string][]): OptionDef[] => pairs.map(([value, label]) => ({ value, label }));

const regarding = {
  logicalName: 'regardingobjectid',
  displayName: 'Regarding',
  type: 'Lookup' as const,
  targets: [
    { entity: 'contact', navigationProperty: 'regardingobjectid_contact', cascadeDelete: 'Cascade' as const },
    { entity: 'account', navigationProperty: 'regardingobjectid_account', cascadeDelete: 'Cascade' as const },
  ],
};

export const contactTable: TableInput = {
  logicalName: 'contact',
  entitySetName: 'contacts',
  primaryIdAttribute: 'contactid',
  primaryNameAttribute: 'fullname',
  displayName: 'Contact',
  objectTypeCode: 2,
  isCustomEntity: false,
  attributes: [
    { logicalName: 'firstname', displayName: 'First Name', type: 'String', maxLength: 50 },
    {
      logicalName: 'lastname',
      displayName: 'Last Name',
      type: 'String',
      maxLength: 50,
      requiredLevel: 'ApplicationRequired',
    },
    {
      logicalName: 'fullname',
      displayName: 'Full Name',
      type: 'String',
      maxLength: 160,
      computed: { concat: ['firstname', 'lastname'], separator: ' ' },
    },
    { logicalName: 'emailaddress1', displayName: 'Email', type: 'String', maxLength: 100 },
    { logicalName: 'telephone1', displayName: 'Business Phone', type: 'String', maxLength: 50 },
    { logicalName: 'mobilephone', displayName: 'Mobile Phone', type: 'String', maxLength: 50 },
    { logicalName: 'jobtitle', displayName: 'Job Title', type: 'String', maxLength: 100 },
    { logicalName: 'address1_city', displayName: 'City', type: 'String', maxLength: 80 },
    { logicalName: 'birthdate', displayName: 'Birthday', type: 'DateOnly' },
    { logicalName: 'description', displayName: 'Description', type: 'Memo', maxLength: 2000 },
    { logicalName: 'donotemail', displayName: 'Do not allow Emails', type: 'Boolean' },
    {
      logicalName: 'preferredcontactmethodcode',
      displayName: 'Preferred Method of Contact',
      type: 'Picklist',
      options: options([
        [1, 'Any'],
        [2, 'Email'],
        [3, 'Phone'],
        [4, 'Fax'],
        [5, 'Mail'],
      ]),
    },
    {
      logicalName: 'parentcustomerid',
      displayName: 'Company Name',
      type: 'Lookup',
      targets: [
        // Parental, as in Dataverse: deleting the company deletes its contacts.
        { entity: 'account', navigationProperty: 'parentcustomerid_account', cascadeDelete: 'Cascade' },
        { entity: 'contact', navigationProperty: 'parentcustomerid_contact', cascadeDelete: 'Cascade' },
      ],
    },
  ],
  keys: [{ logicalName: 'contact_emailaddress1', attributes: ['emailaddress1'] }],
};

export const accountTable: TableInput = {
  logicalName: 'account',
  entitySetName: 'accounts',
  primaryIdAttribute: 'accountid',
  primaryNameAttribute: 'name',
  displayName: 'Account',
  objectTypeCode: 1,
  isCustomEntity: false,
  attributes: [
    {
      logicalName: 'name',
      displayName: 'Account Name',
      type: 'String',
      maxLength: 160,
      requiredLevel: 'ApplicationRequired',
    },
    { logicalName: 'accountnumber', displayName: 'Account Number', type: 'String', maxLength: 20 },
    { logicalName: 'emailaddress1', displayName: 'Email', type: 'String', maxLength: 100 },
    { logicalName: 'telephone1', displayName: 'Main Phone', type: 'String', maxLength: 50 },
    { logicalName: 'websiteurl', displayName: 'Website', type: 'String', maxLength: 200 },
    { logicalName: 'address1_city', displayName: 'City', type: 'String', maxLength: 80 },
    {
      logicalName: 'revenue',
      displayName: 'Annual Revenue',
      type: 'Money',
      minValue: 0,
      maxValue: 100_000_000_000_000,
    },
    {
      logicalName: 'numberofemployees',
      displayName: 'Number of Employees',
      type: 'Integer',
      minValue: 0,
      maxValue: 1_000_000_000,
    },
    { logicalName: 'description', displayName: 'Description', type: 'Memo', maxLength: 2000 },
    { logicalName: 'primarycontactid', displayName: 'Primary Contact', type: 'Lookup', target: 'contact' },
  ],
  keys: [{ logicalName: 'account_accountnumber', attributes: ['accountnumber'] }],
};

export const appointmentTable: TableInput = {
  logicalName: 'appointment',
  entitySetName: 'appointments',
  primaryIdAttribute: 'activityid',
  primaryNameAttribute: 'subject',
  displayName: 'Appointment',
  objectTypeCode: 4201,
  isCustomEntity: false,
  attributes: [
    {
      logicalName: 'subject',
      displayName: 'Subject',
      type: 'String',
      maxLength: 200,
      requiredLevel: 'ApplicationRequired',
    },
    { logicalName: 'scheduledstart', displayName: 'Start Time', type: 'DateTime' },
    { logicalName: 'scheduledend', displayName: 'End Time', type: 'DateTime' },
    { logicalName: 'location', displayName: 'Location', type: 'String', maxLength: 200 },
    { logicalName: 'description', displayName: 'Description', type: 'Memo', maxLength: 10_000 },
    { logicalName: 'isalldayevent', displayName: 'All Day Event', type: 'Boolean' },
    regarding,
    {
      logicalName: 'statecode',
      displayName: 'Activity Status',
      type: 'State',
      options: options([
        [0, 'Open'],
        [1, 'Completed'],
        [2, 'Canceled'],
        [3, 'Scheduled'],
      ]),
    },
    {
      logicalName: 'statuscode',
      displayName: 'Status Reason',
      type: 'Status',
      options: options([
        [1, 'Free'],
        [2, 'Tentative'],
        [3, 'Completed'],
        [4, 'Canceled'],
        [5, 'Busy'],
        [6, 'Out of Office'],
      ]),
    },
  ],
};

export const taskTable: TableInput = {
  logicalName: 'task',
  entitySetName: 'tasks',
  primaryIdAttribute: 'activityid',
  primaryNameAttribute: 'subject',
  displayName: 'Task',
  objectTypeCode: 4212,
  isCustomEntity: false,
  attributes: [
    {
      logicalName: 'subject',
      displayName: 'Subject',
      type: 'String',
      maxLength: 200,
      requiredLevel: 'ApplicationRequired',
    },
    { logicalName: 'description', displayName: 'Description', type: 'Memo', maxLength: 2000 },
    { logicalName: 'scheduledend', displayName: 'Due Date', type: 'DateTime' },
    { logicalName: 'actualend', displayName: 'Actual End', type: 'DateTime' },
    {
      logicalName: 'percentcomplete',
      displayName: 'Percent Complete',
      type: 'Integer',
      minValue: 0,
      maxValue: 100,
    },
    {
      logicalName: 'prioritycode',
      displayName: 'Priority',
      type: 'Picklist',
      options: options([
        [0, 'Low'],
        [1, 'Normal'],
        [2, 'High'],
      ]),
    },
    regarding,
    {
      logicalName: 'statecode',
      displayName: 'Activity Status',
      type: 'State',
      options: options([
        [0, 'Open'],
        [1, 'Completed'],
        [2, 'Canceled'],
      ]),
    },
    {
      logicalName: 'statuscode',
      displayName: 'Status Reason',
      type: 'Status',
      options: options([
        [2, 'Not Started'],
        [3, 'In Progress'],
        [4, 'Waiting on someone else'],
        [5, 'Completed'],
        [6, 'Canceled'],
        [7, 'Deferred'],
      ]),
    },
  ],
};

/** The Life Cockpit session: one appointment of a practitioner with a client. */
export const sessionTable: TableInput = {
  logicalName: 'lc_session',
  entitySetName: 'lc_sessions',
  primaryIdAttribute: 'lc_sessionid',
  primaryNameAttribute: 'lc_name',
  displayName: 'Session',
  objectTypeCode: 10_100,
  isCustomEntity: true,
  attributes: [
    {
      logicalName: 'lc_name',
      displayName: 'Name',
      type: 'String',
      maxLength: 200,
      requiredLevel: 'ApplicationRequired',
    },
    {
      logicalName: 'lc_clientid',
      displayName: 'Client',
      type: 'Lookup',
      targets: [{ entity: 'contact', navigationProperty: 'lc_ClientId' }],
    },
    { logicalName: 'lc_starttime', displayName: 'Start', type: 'DateTime' },
    { logicalName: 'lc_endtime', displayName: 'End', type: 'DateTime' },
    { logicalName: 'lc_location', displayName: 'Location', type: 'String', maxLength: 200 },
    {
      logicalName: 'lc_sessiontype',
      displayName: 'Session Type',
      type: 'Picklist',
      options: options([
        [1, 'Intake'],
        [2, 'Individual'],
        [3, 'Couple'],
        [4, 'Group'],
        [5, 'Online'],
      ]),
    },
    {
      logicalName: 'lc_status',
      displayName: 'Session Status',
      type: 'Picklist',
      options: options([
        [1, 'Planned'],
        [2, 'Completed'],
        [3, 'Cancelled'],
        [4, 'No-show'],
      ]),
    },
    { logicalName: 'lc_notes', displayName: 'Notes', type: 'Memo', maxLength: 1_048_576 },
    { logicalName: 'lc_fee', displayName: 'Fee', type: 'Money', minValue: 0, maxValue: 1_000_000 },
    { logicalName: 'lc_paid', displayName: 'Paid', type: 'Boolean' },
    { logicalName: 'lc_externalid', displayName: 'External Id', type: 'String', maxLength: 100 },
    {
      logicalName: 'lc_appointmentid',
      displayName: 'Calendar Appointment',
      type: 'Lookup',
      targets: [{ entity: 'appointment', navigationProperty: 'lc_AppointmentId' }],
    },
  ],
  keys: [{ logicalName: 'lc_session_externalid', attributes: ['lc_externalid'] }],
};

export const businessTables: TableInput[] = [
  contactTable,
  accountTable,
  appointmentTable,
  taskTable,
  sessionTable,
];
