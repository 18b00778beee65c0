/**
 * A table's definition as a plan needs it, read from the Web API's EntityDefinitions: names, primary
 * columns, alternate keys, and per column its type, requirement level, whether it may be written on
 * create or update, MaxLength, MinValue/MaxValue, option values and lookup targets, plus the
 * navigation property each lookup is bound through. Reads are cached (by environment and entity set)
 * for a time to live, in whatever Cache it is given; a failing cache counts as a miss, never as an
 * error. It never writes metadata and never reads configuration itself.
 */
import { z } from 'zod';
import type { Cache } from '../cache';
import type { CallOptions, DataverseClient } from './client';

export type RequiredLevel = 'None' | 'SystemRequired' | 'ApplicationRequired' | 'Recommended';

export interface ColumnMetadata {
  logicalName: string;
  /** Dataverse's AttributeType: String, Memo, Integer, Money, Picklist, Lookup, DateTime, ... */
  type: string;
  /** `DateOnly` for date columns without a time. */
  format?: string;
  requiredLevel: RequiredLevel;
  validForCreate: boolean;
  validForUpdate: boolean;
  maxLength?: number;
  minValue?: number;
  maxValue?: number;
  /** Choice columns: their options. */
  options?: { value: number; label?: string }[];
  /** Lookups: the logical names of the tables they may point at. */
  targets?: string[];
}

export interface TableMetadata {
  logicalName: string;
  entitySetName: string;
  primaryIdAttribute: string;
  primaryNameAttribute?: string;
  columns: Record<string, ColumnMetadata>;
  /**
   * `<navigation>@odata.bind`: the lookup column a navigation property sets, the table it points at,
   * and what deleting the record it points at does to this one (CascadeConfiguration.Delete: Cascade
   * deletes it too, RemoveLink clears the lookup, Restrict refuses the delete; unknown when not read).
   */
  navigation: Record<string, { attribute: string; target: string; onDelete?: string }>;
  keys: { name: string; attributes: string[] }[];
}

const label = z
  .object({ UserLocalizedLabel: z.object({ Label: z.string() }).nullish() })
  .nullish()
  .transform((l) => l?.UserLocalizedLabel?.Label);

const attributeSchema = z.object({
  LogicalName: z.string(),
  AttributeType: z.string(),
  Format: z.string().nullish(),
  RequiredLevel: z.object({ Value: z.string() }).nullish(),
  IsValidForCreate: z.boolean().nullish(),
  IsValidForUpdate: z.boolean().nullish(),
  MaxLength: z.number().nullish(),
  MinValue: z.number().nullish(),
  MaxValue: z.number().nullish(),
  Targets: z.array(z.string()).nullish(),
});

const entitySchema = z.object({
  LogicalName: z.string(),
  EntitySetName: z.string(),
  PrimaryIdAttribute: z.string(),
  PrimaryNameAttribute: z.string().nullish(),
  Attributes: z.array(attributeSchema).default([]),
  Keys: z.array(z.object({ LogicalName: z.string(), KeyAttributes: z.array(z.string()) })).default([]),
  ManyToOneRelationships: z
    .array(
      z.object({
        ReferencingAttribute: z.string(),
        ReferencedEntity: z.string(),
        ReferencingEntityNavigationPropertyName: z.string(),
        CascadeConfiguration: z.object({ Delete: z.string().nullish() }).nullish(),
      }),
    )
    .default([]),
});

const optionSetSchema = z.object({
  value: z.array(
    z.object({
      LogicalName: z.string(),
      OptionSet: z.object({ Options: z.array(z.object({ Value: z.number(), Label: label })) }).nullish(),
    }),
  ),
});

const REQUIRED_LEVELS: RequiredLevel[] = ['None', 'SystemRequired', 'ApplicationRequired', 'Recommended'];
/** Choice column types and the metadata type their option sets are read through. */
const CHOICE_TYPES: Record<string, string> = {
  Picklist: 'PicklistAttributeMetadata',
  State: 'StateAttributeMetadata',
  Status: 'StatusAttributeMetadata',
};

function column(raw: z.infer<typeof attributeSchema>): ColumnMetadata {
  const level = raw.RequiredLevel?.Value as RequiredLevel | undefined;
  return {
    logicalName: raw.LogicalName,
    type: raw.AttributeType,
    format: raw.Format ?? undefined,
    requiredLevel: level && REQUIRED_LEVELS.includes(level) ? level : 'None',
    validForCreate: raw.IsValidForCreate ?? true,
    validForUpdate: raw.IsValidForUpdate ?? true,
    maxLength: raw.MaxLength ?? undefined,
    minValue: raw.MinValue ?? undefined,
    maxValue: raw.MaxValue ?? undefined,
    targets: raw.Targets ?? undefined,
  };
}

/** Reads table metadata through a Dataverse client, cached for `ttlMs` in `cache`. */
export class DataverseMetadata {
  constructor(
    private readonly client: DataverseClient,
    private readonly cache: Cache,
    private readonly ttlMs: number,
  ) {}

  /** The table with this entity set name, or undefined when the environment has none. */
  async table(entitySet: string, options: CallOptions = {}): Promise<TableMetadata | undefined> {
    const key = `dataverse-metadata:${this.client.apiUrl}:${entitySet}`;
    const cached = await this.cache.get(key).catch(() => undefined);
    if (cached) {
      try {
        return JSON.parse(cached) as TableMetadata;
      } catch {
        // not ours to trust: read it again
      }
    }
    const table = await this.read(entitySet, options);
    if (table) await this.cache.set(key, JSON.stringify(table), this.ttlMs).catch(() => undefined);
    return table;
  }

  /** The entity set name of the table with this logical name (a lookup's target), cached as tables are. */
  async entitySetName(logicalName: string, options: CallOptions = {}): Promise<string | undefined> {
    const key = `dataverse-entityset:${this.client.apiUrl}:${logicalName}`;
    const cached = await this.cache.get(key).catch(() => undefined);
    if (cached) return cached;
    const filter = encodeURIComponent(`LogicalName eq '${logicalName.replace(/'/g, "''")}'`);
    const body = z
      .object({ value: z.array(z.object({ EntitySetName: z.string() })) })
      .parse(
        await this.client.readMetadata(`/EntityDefinitions?$filter=${filter}&$select=EntitySetName`, options),
      );
    const name = body.value[0]?.EntitySetName;
    if (name) await this.cache.set(key, name, this.ttlMs).catch(() => undefined);
    return name;
  }

  private async read(entitySet: string, options: CallOptions): Promise<TableMetadata | undefined> {
    const filter = encodeURIComponent(`EntitySetName eq '${entitySet.replace(/'/g, "''")}'`);
    const relationships =
      'ManyToOneRelationships($select=ReferencingAttribute,ReferencedEntity,ReferencingEntityNavigationPropertyName,CascadeConfiguration)';
    const body = z
      .object({ value: z.array(entitySchema) })
      .parse(
        await this.client.readMetadata(
          `/EntityDefinitions?$filter=${filter}&$select=LogicalName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute&$expand=Attributes,Keys,${relationships}`,
          options,
        ),
      );
    const entity = body.value[0];
    if (!entity) return undefined;
    const columns: Record<string, ColumnMetadata> = {};
    for (const raw of entity.Attributes) columns[raw.LogicalName] = column(raw);
    for (const [type, metadataType] of Object.entries(CHOICE_TYPES)) {
      if (!Object.values(columns).some((c) => c.type === type)) continue;
      const sets = optionSetSchema.parse(
        await this.client.readMetadata(
          `/EntityDefinitions(LogicalName='${entity.LogicalName}')/Attributes/Microsoft.Dynamics.CRM.${metadataType}?$select=LogicalName&$expand=OptionSet($select=Options)`,
          options,
        ),
      );
      for (const set of sets.value) {
        const target = columns[set.LogicalName];
        if (target && set.OptionSet)
          target.options = set.OptionSet.Options.map((o) => ({ value: o.Value, label: o.Label }));
      }
    }
    const navigation: TableMetadata['navigation'] = {};
    for (const r of entity.ManyToOneRelationships)
      navigation[r.ReferencingEntityNavigationPropertyName] = {
        attribute: r.ReferencingAttribute,
        target: r.ReferencedEntity,
        ...(r.CascadeConfiguration?.Delete ? { onDelete: r.CascadeConfiguration.Delete } : {}),
      };
    return {
      logicalName: entity.LogicalName,
      entitySetName: entity.EntitySetName,
      primaryIdAttribute: entity.PrimaryIdAttribute,
      primaryNameAttribute: entity.PrimaryNameAttribute ?? undefined,
      columns,
      navigation,
      keys: entity.Keys.map((k) => ({ name: k.LogicalName, attributes: k.KeyAttributes })),
    };
  }
}
