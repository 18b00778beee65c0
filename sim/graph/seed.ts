/**
 * Starting directories for the Graph simulator: `demo`, the staff of a small therapy practice on
 * the tenant domain contoso-practice.example, and the bare tenant an unseeded simulator starts
 * with. Ids are fixed so other simulators' demo data (sessions owned by a therapist, tasks for
 * reception) can point at the same people. Must never use a real domain or a reachable phone
 * number: .example domains and 555-01xx numbers are reserved for fiction.
 */
import type { GraphUser, Organization } from './model';

export type GraphSeedName = 'demo';

export const DEMO_TENANT_DOMAIN = 'contoso-practice.example';
export const DEMO_TENANT_ID = '7d4c1a52-93e8-4b6f-a0d2-5e61c8f3b914';

/** The demo staff's ids by role, for seeds elsewhere that assign work to them. */
export const DEMO_USER_IDS = {
  owner: 'b1e0f6a2-4c3d-4e8f-9a71-0d2c5b6e8f31',
  physiotherapist: 'c27a9d14-8e5b-4f26-b3c0-71e4a9d2f582',
  occupationalTherapist: 'd38b0e25-9f6c-4a37-84d1-82f5b0e3a693',
  psychologist: 'e49c1f36-a07d-4b48-95e2-93a6c1f4b7a4',
  practiceManager: 'f5ad2047-b18e-4c59-a6f3-a4b7d205c8b5',
  receptionist: '06be3158-c29f-4d6a-b704-b5c8e316d9c6',
  receptionistPartTime: '17cf4269-d3a0-4e7b-8815-c6d9f427eac7',
} as const;

interface Person {
  id: string;
  givenName: string;
  surname: string;
  jobTitle: string;
  department: string;
  officeLocation: string;
  mobile: string;
  desk: string | null;
  hired: string;
}

const PEOPLE: Person[] = [
  {
    id: DEMO_USER_IDS.owner,
    givenName: 'Maren',
    surname: 'Lindqvist',
    jobTitle: 'Practice Owner & Clinical Director',
    department: 'Management',
    officeLocation: 'Main clinic, Room 1',
    mobile: '+1 425 555 0101',
    desk: '+1 425 555 0100',
    hired: '2019-03-04T08:00:00Z',
  },
  {
    id: DEMO_USER_IDS.physiotherapist,
    givenName: 'Jonas',
    surname: 'Becker',
    jobTitle: 'Physiotherapist',
    department: 'Therapy',
    officeLocation: 'Main clinic, Room 2',
    mobile: '+1 425 555 0112',
    desk: '+1 425 555 0102',
    hired: '2020-09-01T08:00:00Z',
  },
  {
    id: DEMO_USER_IDS.occupationalTherapist,
    givenName: 'Aisha',
    surname: 'Rahman',
    jobTitle: 'Occupational Therapist',
    department: 'Therapy',
    officeLocation: 'Main clinic, Room 3',
    mobile: '+1 425 555 0113',
    desk: '+1 425 555 0103',
    hired: '2021-02-15T08:00:00Z',
  },
  {
    id: DEMO_USER_IDS.psychologist,
    givenName: 'Tomás',
    surname: 'Ortega',
    jobTitle: 'Clinical Psychologist',
    department: 'Therapy',
    officeLocation: 'Garden annex, Room 5',
    mobile: '+1 425 555 0114',
    desk: null,
    hired: '2022-06-13T08:00:00Z',
  },
  {
    id: DEMO_USER_IDS.practiceManager,
    givenName: 'Lena',
    surname: 'Novak',
    jobTitle: 'Practice Manager',
    department: 'Administration',
    officeLocation: 'Main clinic, Office',
    mobile: '+1 425 555 0115',
    desk: '+1 425 555 0105',
    hired: '2019-05-20T08:00:00Z',
  },
  {
    id: DEMO_USER_IDS.receptionist,
    givenName: 'Sam',
    surname: 'Whitfield',
    jobTitle: 'Receptionist',
    department: 'Front Desk',
    officeLocation: 'Main clinic, Reception',
    mobile: '+1 425 555 0116',
    desk: '+1 425 555 0106',
    hired: '2023-01-09T08:00:00Z',
  },
  {
    id: DEMO_USER_IDS.receptionistPartTime,
    givenName: 'Priya',
    surname: 'Natarajan',
    jobTitle: 'Receptionist (part-time)',
    department: 'Front Desk',
    officeLocation: 'Main clinic, Reception',
    mobile: '+1 425 555 0117',
    desk: '+1 425 555 0106',
    hired: '2024-04-02T08:00:00Z',
  },
];

function toUser(person: Person, domain: string, companyName: string): GraphUser {
  const alias = `${person.givenName}.${person.surname}`
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();
  const address = `${alias}@${domain}`;
  return {
    id: person.id,
    displayName: `${person.givenName} ${person.surname}`,
    givenName: person.givenName,
    surname: person.surname,
    mail: address,
    userPrincipalName: address,
    jobTitle: person.jobTitle,
    mobilePhone: person.mobile,
    businessPhones: person.desk ? [person.desk] : [],
    officeLocation: person.officeLocation,
    preferredLanguage: 'en-US',
    accountEnabled: true,
    department: person.department,
    companyName,
    mailNickname: alias,
    usageLocation: 'US',
    userType: 'Member',
    createdDateTime: person.hired,
  };
}

export function demoDirectory(): { organization: Organization; users: GraphUser[] } {
  const organization: Organization = {
    id: DEMO_TENANT_ID,
    displayName: 'Contoso Practice',
    verifiedDomains: [
      {
        capabilities: 'Email, OfficeCommunicationsOnline',
        isDefault: true,
        isInitial: false,
        name: DEMO_TENANT_DOMAIN,
        type: 'Managed',
      },
      {
        capabilities: 'Email, OfficeCommunicationsOnline',
        isDefault: false,
        isInitial: true,
        name: 'contosopractice.onmicrosoft.com',
        type: 'Managed',
      },
    ],
    businessPhones: ['+1 425 555 0100'],
    city: 'Redmond',
    country: 'United States',
    countryLetterCode: 'US',
    postalCode: '98052',
    state: 'WA',
    street: '12 Harbour Lane',
    preferredLanguage: 'en',
    tenantType: 'AAD',
    createdDateTime: '2019-03-01T09:30:00Z',
    technicalNotificationMails: [`lena.novak@${DEMO_TENANT_DOMAIN}`],
  };
  return { organization, users: PEOPLE.map((p) => toUser(p, DEMO_TENANT_DOMAIN, organization.displayName)) };
}

/** The tenant an unseeded simulator serves: Graph always has an organization, even with no users. */
export function emptyDirectory(): { organization: Organization; users: GraphUser[] } {
  return {
    organization: {
      id: '00c0ffee-5a1e-4d0e-8b1a-000000000001',
      displayName: 'Simulated Tenant',
      verifiedDomains: [
        {
          capabilities: 'Email, OfficeCommunicationsOnline',
          isDefault: true,
          isInitial: true,
          name: 'simulated-tenant.example',
          type: 'Managed',
        },
      ],
      businessPhones: [],
      city: null,
      country: null,
      countryLetterCode: null,
      postalCode: null,
      state: null,
      street: null,
      preferredLanguage: 'en',
      tenantType: 'AAD',
      createdDateTime: '2024-01-01T00:00:00Z',
      technicalNotificationMails: [],
    },
    users: [],
  };
}
