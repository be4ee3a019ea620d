import { sql, type Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * Tags of an organization and their links to images. A tag is unique by name in its
 * organization; its labels are `{en, fr}` as the API answers them. A link (`tag_images`) joins a
 * tag and an image once, with who made it; `tag_names` of the sync payload and the search
 * fields `tags:` read these links. The tag names kept until now per image (`image_tags`) become
 * tags and links.
 */
export async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('tags')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('organization_id', 'uuid', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('labels', 'json', (c) => c.notNull())
    .addColumn('public', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('listed', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('visible', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('allow_download', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('color', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz(3)', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz(3)', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('tags_organization_name', ['organization_id', 'name'])
    .execute();

  await db.schema
    .createTable('tag_images')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('organization_id', 'uuid', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('tag_id', 'uuid', (c) => c.notNull().references('tags.id').onDelete('cascade'))
    .addColumn('image_id', 'uuid', (c) => c.notNull().references('images.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid')
    .addColumn('created_at', 'timestamptz(3)', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('tag_images_tag_image', ['tag_id', 'image_id'])
    .execute();
  await db.schema.createIndex('tag_images_image').on('tag_images').columns(['image_id']).execute();

  // The names kept per image until now become tags (colour from the palette, labels = name).
  await sql`
    insert into tags (id, organization_id, name, labels, color)
    select gen_random_uuid(), i.organization_id, t.name, json_build_object('en', t.name, 'fr', t.name), '#9E9E9E'
    from image_tags t join images i on i.id = t.image_id
    group by i.organization_id, t.name`.execute(db);
  await sql`
    insert into tag_images (id, organization_id, tag_id, image_id)
    select gen_random_uuid(), i.organization_id, g.id, t.image_id
    from image_tags t join images i on i.id = t.image_id
    join tags g on g.organization_id = i.organization_id and g.name = t.name`.execute(db);
  await db.schema.dropTable('image_tags').execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema
    .createTable('image_tags')
    .addColumn('image_id', 'uuid', (c) => c.notNull().references('images.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('image_tags_pkey', ['image_id', 'name'])
    .execute();
  await sql`
    insert into image_tags (image_id, name)
    select l.image_id, t.name from tag_images l join tags t on t.id = l.tag_id
    on conflict do nothing`.execute(db);
  await db.schema.dropTable('tag_images').ifExists().execute();
  await db.schema.dropTable('tags').ifExists().execute();
}
