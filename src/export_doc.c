/*-------------------------------------------------------------------------
 *
 * export_doc.c
 *	  Export documents (export.h) written straight in jsonb's binary form,
 *	  and the rows a purge with archive captures as it deletes them.
 *
 * The rows of a document are jsonb already (to_jsonb() of each row).
 * pushJsonbValue() would take every one apart into JsonbValues and
 * JsonbValueToJsonb() put it together again; here each row's container
 * is copied once, as jsonb itself nests containers: the document is an
 * object whose "tables" array holds one object per table whose "rows"
 * array holds the rows' containers.  The layout is jsonb's own (see
 * utils/jsonb.h and convertJsonbObject() in jsonb_util.c): a container
 * header, a JEntry per child (a length, or every JB_OFFSET_STRIDE-th an
 * end offset), then the children's data, numerics and containers padded
 * to 4 bytes; object keys come first, sorted as jsonb sorts them
 * (shorter first, then bytewise), then the values in the same order.
 *
 * The capture: a purge with archive => true runs its DELETEs with
 * RETURNING <tenant ordinal>, <the row's columns> (or to_jsonb(<row>) for
 * a table with a column type the row writer below does not know) into a
 * receiver (purge_delete.c) that appends each row here, per tenant and
 * table, so the archive holds exactly the rows deleted, found by the
 * purge's own walk.  They stay in memory until the archive is written, up
 * to TG_CAPTURE_MAX_BYTES: the columns as a minimal tuple (about half the
 * bytes of the row's jsonb), which tg_doc_build() writes as jsonb
 * straight into the tenant's document.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/mman.h>

#include "access/detoast.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/pg_type.h"
#include "common/jsonapi.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"

#include "archive_at.h"
#include "export_doc.h"
#include "tg_assert.h"

/* Most bytes of rows one purge keeps in memory for its archive. */
#define TG_CAPTURE_MAX_BYTES	((Size) 512 * 1024 * 1024)

/* A container being written: where it starts, its JEntries, its children. */
typedef struct TgDocLevel
{
	int			base;			/* buf->len before its padding */
	int			jentries;		/* offset of its JEntry array */
	int			n;				/* JEntries */
	int			i;				/* children written */
	uint32		totallen;		/* their data so far */
} TgDocLevel;

/* The error of a document over jsonb's size limit. */
static void
tg_doc_too_big(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("export document exceeds the maximum jsonb size of %d bytes",
					JENTRY_OFFLENMASK),
			 errdetail("One tenant's rows make one jsonb document.")));
}

/* Pad buf to 4 bytes; the padding's length. */
static int
tg_doc_pad(StringInfo buf)
{
	static const char zeros[4] = {0, 0, 0, 0};
	int			pad = INTALIGN(buf->len) - buf->len;

	if (pad > 0)
		appendBinaryStringInfo(buf, zeros, pad);
	return pad;
}

/* Start a container of n JEntries with this header word. */
static void
tg_doc_begin(StringInfo buf, TgDocLevel *l, int n, uint32 header)
{
	l->base = buf->len;
	(void) tg_doc_pad(buf);
	appendBinaryStringInfo(buf, (char *) &header, sizeof(uint32));
	l->jentries = buf->len;
	enlargeStringInfo(buf, n * sizeof(JEntry));
	buf->len += n * sizeof(JEntry);
	l->n = n;
	l->i = 0;
	l->totallen = 0;
}

/* The JEntry of the child just written. */
static void
tg_doc_child(StringInfo buf, TgDocLevel *l, JEntry meta)
{
	if (l->i >= l->n)
		elog(ERROR, "export document: more children than announced");
	l->totallen += JBE_OFFLENFLD(meta);
	if (l->totallen > JENTRY_OFFLENMASK)
		tg_doc_too_big();
	if (l->i % JB_OFFSET_STRIDE == 0)
		meta = (meta & JENTRY_TYPEMASK) | l->totallen | JENTRY_HAS_OFF;
	memcpy(buf->data + l->jentries + l->i * sizeof(JEntry), &meta, sizeof(JEntry));
	l->i++;
}

/* End a container; its JEntry in its parent. */
static JEntry
tg_doc_end(StringInfo buf, TgDocLevel *l)
{
	uint32		total = buf->len - l->base;

	if (l->i != l->n)
		elog(ERROR, "export document: fewer children than announced");
	if (total > JENTRY_OFFLENMASK)
		tg_doc_too_big();
	return JENTRY_ISCONTAINER | total;
}

/* A string child. */
static JEntry
tg_doc_string(StringInfo buf, const char *s)
{
	int			len = strlen(s);

	if (len > JENTRY_OFFLENMASK)
		tg_doc_too_big();
	appendBinaryStringInfo(buf, s, len);
	return JENTRY_ISSTRING | len;
}

/* A string child of len bytes. */
static JEntry
tg_doc_string_len(StringInfo buf, const char *s, int len)
{
	if (len > JENTRY_OFFLENMASK)
		tg_doc_too_big();
	appendBinaryStringInfo(buf, s, len);
	return JENTRY_ISSTRING | len;
}

/* A numeric child (4-byte header, as jsonb keeps numerics). */
static JEntry
tg_doc_numeric(StringInfo buf, Numeric num)
{
	int			pad = tg_doc_pad(buf);

	appendBinaryStringInfo(buf, (char *) num, VARSIZE(num));
	return JENTRY_ISNUMERIC | (pad + VARSIZE(num));
}

/*
 * An integer child, written as int64_to_numeric() makes it (numeric.c's
 * make_result(): the short format, dscale 0, base-10000 digits from the
 * most significant, zero digits at the end left off, weight the number of
 * digits before the point less one; zero has no digits) without building
 * it in memory of its own.
 */
#define TG_NUMERIC_SHORT			0x8000
#define TG_NUMERIC_SHORT_SIGN_MASK	0x2000
#define TG_NUMERIC_SHORT_WEIGHT_MASK	0x003F

static JEntry
tg_doc_int(StringInfo buf, int64 val)
{
	uint64		uval = val < 0 ? -((uint64) val) : (uint64) val;
	int16		digits[5];		/* least significant first */
	int			n = 0;
	int			low = 0;
	int			len;
	int			pad;
	uint16		header;
	char	   *at;

	while (uval > 0)
	{
		digits[n++] = (int16) (uval % 10000);
		uval /= 10000;
	}
	while (low < n && digits[low] == 0)
		low++;
	header = TG_NUMERIC_SHORT;
	if (n > low)
		header |= (val < 0 ? TG_NUMERIC_SHORT_SIGN_MASK : 0) |
			((n - 1) & TG_NUMERIC_SHORT_WEIGHT_MASK);
	len = VARHDRSZ + sizeof(uint16) + (n - low) * sizeof(int16);
	pad = tg_doc_pad(buf);
	enlargeStringInfo(buf, len);
	at = buf->data + buf->len;
	SET_VARSIZE(at, len);
	memcpy(at + VARHDRSZ, &header, sizeof(uint16));
	for (int i = n - 1, pos = VARHDRSZ + sizeof(uint16); i >= low; i--, pos += sizeof(int16))
		memcpy(at + pos, &digits[i], sizeof(int16));
	buf->len += len;
	buf->data[buf->len] = '\0';
	TG_ASSERT(VARSIZE(int64_to_numeric(val)) == (Size) len &&
			  memcmp(at, int64_to_numeric(val), len) == 0);
	return JENTRY_ISNUMERIC | (pad + len);
}

/* A container child, copied (a jsonb's root). */
static JEntry
tg_doc_container(StringInfo buf, const char *data, uint32 len)
{
	int			pad = tg_doc_pad(buf);

	appendBinaryStringInfo(buf, data, len);
	return JENTRY_ISCONTAINER | (pad + len);
}

/*
 * A piece of a TgRows: records of a uint32 length and a row's container,
 * padded to 4 bytes.  Pieces start small and double up to
 * TG_SEG_MAX: many tenants with few rows each stay small, and a big one
 * is never copied to grow (each piece is carved from its memory
 * context's blocks, not a realloc of its own).
 */
#define TG_SEG_MIN	256
#define TG_SEG_MAX	(8 * 1024 - 64)

struct TgRowSeg
{
	TgRowSeg   *next;
	int			len;
	unsigned int cap:31;
	unsigned int at:1;			/* its records are TgRowAt (archive_at.h) */
	char		data[FLEXIBLE_ARRAY_MEMBER];
};

/* minimal tuples are kept MAXALIGNed: so is data in a palloc'd piece */
StaticAssertDecl(offsetof(TgRowSeg, data) % MAXIMUM_ALIGNOF == 0,
				 "TgRowSeg.data is not MAXALIGNed");

/*
 * Where a capture's pieces go: chunks of its memory context (256 kB
 * doubling up to 8 MB), carved in order.  A purge keeps tens of MB of
 * rows in a backend that has not used that memory before, and first
 * touches of fresh pages (a page fault per 4 kB) were a third of the
 * capture's time; where the kernel has transparent huge pages on request
 * (MADV_HUGEPAGE), each chunk asks for them.
 */
#define TG_ARENA_FIRST	((Size) 256 * 1024)
#define TG_ARENA_CHUNK	((Size) 8 * 1024 * 1024)
#define TG_HUGE_PAGE	((uintptr_t) 2 * 1024 * 1024)

typedef struct TgArena
{
	MemoryContext cxt;
	char	   *next;			/* MAXALIGNed */
	Size		left;
	Size		chunk;			/* the last chunk's size */
} TgArena;

/* size bytes (MAXALIGNed) from the arena. */
static void *
tg_arena_alloc(TgArena *a, Size size)
{
	void	   *result;

	size = MAXALIGN(size);
	if (size > a->left)
	{
		Size		chunk = a->chunk ? Min(a->chunk * 2, TG_ARENA_CHUNK) : TG_ARENA_FIRST;
		char	   *p;

		a->chunk = chunk;
		chunk = Max(chunk, size);
		p = MemoryContextAllocHuge(a->cxt, chunk);

#ifdef MADV_HUGEPAGE
		{
			uintptr_t	start = TYPEALIGN(TG_HUGE_PAGE, (uintptr_t) p);
			uintptr_t	end = TYPEALIGN_DOWN(TG_HUGE_PAGE, (uintptr_t) p + chunk);

			/* advice only: a kernel without them just says no */
			if (end > start)
				(void) madvise((void *) start, end - start, MADV_HUGEPAGE);
		}
#endif
		a->next = p;
		a->left = chunk;
	}
	result = a->next;
	a->next += size;
	a->left -= size;
	return result;
}

/* See export_doc.h. */
void
tg_rows_init(TgRows *rows, MemoryContext cxt)
{
	memset(rows, 0, sizeof(TgRows));
	rows->cxt = cxt;
}

/*
 * Room for a record of need bytes (a multiple of MAXIMUM_ALIGNOF, or of 4
 * in pieces that hold only such) at the end of rows: MAXALIGNed where the
 * records before it are.  Addresses (byaddr: TgRowAt records) and other
 * records never share a piece.
 */
static char *
tg_rows_reserve(TgRows *rows, Size need, bool byaddr)
{
	TgRowSeg   *seg = rows->tail;
	char	   *at;

	if (seg == NULL || (int) seg->cap - seg->len < (int) need || seg->at != byaddr)
	{
		Size		cap = seg ? Min((Size) seg->cap * 2, (Size) TG_SEG_MAX) : TG_SEG_MIN;

		cap = Max(cap, need);
		if (rows->arena)
			seg = tg_arena_alloc(rows->arena, offsetof(TgRowSeg, data) + cap);
		else
			seg = MemoryContextAlloc(rows->cxt, offsetof(TgRowSeg, data) + cap);
		seg->next = NULL;
		seg->len = 0;
		seg->cap = (unsigned int) cap;
		seg->at = byaddr;
		if (rows->tail)
			rows->tail->next = seg;
		else
			rows->head = seg;
		rows->tail = seg;
	}
	at = seg->data + seg->len;
	seg->len += need;
	rows->bytes += need;
	rows->nrows++;
	return at;
}

/* Append one row's container (len bytes) to rows: its length, itself. */
static void
tg_rows_append(TgRows *rows, const char *data, uint32 len)
{
	char	   *at = tg_rows_reserve(rows, sizeof(uint32) + INTALIGN(len), false);

	memcpy(at, &len, sizeof(uint32));
	memcpy(at + sizeof(uint32), data, len);
	memset(at + sizeof(uint32) + len, 0, INTALIGN(len) - len);
}

/* See export_doc.h. */
void
tg_rows_add_jsonb(TgRows *rows, Datum row)
{
	Jsonb	   *j = DatumGetJsonbP(row);

	tg_rows_append(rows, VARDATA(j), VARSIZE(j) - VARHDRSZ);
	if ((Pointer) j != DatumGetPointer(row))
		pfree(j);
}

static JEntry tg_rowplan_write_tuple(StringInfo buf, TgRowPlan *plan, MinimalTuple mt);
static JEntry tg_rowplan_write_at(StringInfo buf, TgRowPlan *plan, const TgRowAt *at,
								  const TgRowAt *end);
static void tg_rowplan_done(TgRowPlan *plan, int64 nrows, int bytes);
static double tg_rowplan_guess(TgRowPlan *plan, TgRows *rows);

/* The "rows" array of a table. */
static JEntry
tg_doc_rows(StringInfo buf, TgDocTable *t)
{
	TgDocLevel	l;
	int64		nrows = t->rows->nrows;
	TgRowPlan  *plan = t->rows->plan;
	int			start = buf->len;
	JEntry		result;

	if (nrows > JB_CMASK)
		tg_doc_too_big();
	tg_doc_begin(buf, &l, (int) nrows, (uint32) nrows | JB_FARRAY);
	for (TgRowSeg *seg = t->rows->head; seg; seg = seg->next)
	{
		for (int pos = 0; pos < seg->len;)
		{
			if (seg->at)
			{
				/* an address: the row read back from its page */
				TgRowAt    *at = (TgRowAt *) (seg->data + pos);

				if (plan == NULL)
					elog(ERROR, "purge archive: rows kept by address without their writer");
				tg_doc_child(buf, &l, tg_rowplan_write_at(buf, plan, at,
														  (TgRowAt *) (seg->data + seg->len)));
				pos += sizeof(TgRowAt);
			}
			else if (plan)
			{
				/* a minimal tuple (MAXALIGNed), written as jsonb here */
				MinimalTuple mt = (MinimalTuple) (seg->data + pos);

				tg_doc_child(buf, &l, tg_rowplan_write_tuple(buf, plan, mt));
				pos += MAXALIGN(mt->t_len);
			}
			else
			{
				/* a length and a container */
				uint32		len;

				memcpy(&len, seg->data + pos, sizeof(uint32));
				pos += sizeof(uint32);
				tg_doc_child(buf, &l, tg_doc_container(buf, seg->data + pos, len));
				pos += INTALIGN(len);
			}
		}
	}
	result = tg_doc_end(buf, &l);
	if (plan)
		tg_rowplan_done(plan, nrows, buf->len - start);
	return result;
}

/* See export_doc.h. */
Jsonb *
tg_doc_build(const char *tenants, const char *tenant_id, TgDocTable *tables, int ntables)
{
	StringInfoData buf;
	TgDocLevel	doc;
	TgDocLevel	arr;
	int			nused = 0;
	double		need = 256;		/* at least, to fit */
	double		guess = 0;		/* more, for rows the row writer writes */
	static const char varhdr[VARHDRSZ] = {0};

	for (int i = 0; i < ntables; i++)
	{
		if (tables[i].rows == NULL || tables[i].rows->nrows == 0)
			continue;
		nused++;
		need += (double) tables[i].rows->bytes + strlen(tables[i].qualname) + 64 +
			(tables[i].columns ? VARSIZE(tables[i].columns) : 0) +
			(double) tables[i].rows->nrows * sizeof(JEntry);
		if (tables[i].rows->plan)
			guess += tg_rowplan_guess(tables[i].rows->plan, tables[i].rows);
	}
	if (need > JENTRY_OFFLENMASK)
		tg_doc_too_big();

	initStringInfo(&buf);
	enlargeStringInfo(&buf, (int) Min(need + guess, (double) JENTRY_OFFLENMASK));
	appendBinaryStringInfo(&buf, varhdr, VARHDRSZ);

	/* 5 pairs; keys as jsonb sorts them: shorter first, then bytewise */
	tg_doc_begin(&buf, &doc, 10, 5 | JB_FOBJECT);
	tg_doc_child(&buf, &doc, tg_doc_string(&buf, "format"));
	tg_doc_child(&buf, &doc, tg_doc_string(&buf, "tables"));
	tg_doc_child(&buf, &doc, tg_doc_string(&buf, "tenants"));
	tg_doc_child(&buf, &doc, tg_doc_string(&buf, "version"));
	tg_doc_child(&buf, &doc, tg_doc_string(&buf, "tenant_id"));

	tg_doc_child(&buf, &doc, tg_doc_string(&buf, TG_EXPORT_FORMAT));
	tg_doc_begin(&buf, &arr, nused, (uint32) nused | JB_FARRAY);
	for (int i = 0; i < ntables; i++)
	{
		TgDocLevel	tab;

		if (tables[i].rows == NULL || tables[i].rows->nrows == 0)
			continue;
		/* keys: rows, table, columns */
		tg_doc_begin(&buf, &tab, 6, 3 | JB_FOBJECT);
		tg_doc_child(&buf, &tab, tg_doc_string(&buf, "rows"));
		tg_doc_child(&buf, &tab, tg_doc_string(&buf, "table"));
		tg_doc_child(&buf, &tab, tg_doc_string(&buf, "columns"));
		tg_doc_child(&buf, &tab, tg_doc_rows(&buf, &tables[i]));
		tg_doc_child(&buf, &tab, tg_doc_string(&buf, tables[i].qualname));
		if (tables[i].columns)
			tg_doc_child(&buf, &tab, tg_doc_container(&buf, VARDATA(tables[i].columns),
													  VARSIZE(tables[i].columns) - VARHDRSZ));
		else
		{
			TgDocLevel	none;

			tg_doc_begin(&buf, &none, 0, 0 | JB_FOBJECT);
			tg_doc_child(&buf, &tab, tg_doc_end(&buf, &none));
		}
		tg_doc_child(&buf, &arr, tg_doc_end(&buf, &tab));
	}
	tg_doc_child(&buf, &doc, tg_doc_end(&buf, &arr));
	tg_doc_child(&buf, &doc, tg_doc_string(&buf, tenants));
	tg_doc_child(&buf, &doc, tg_doc_numeric(&buf, int64_to_numeric(TG_EXPORT_VERSION)));
	tg_doc_child(&buf, &doc, tg_doc_string(&buf, tenant_id));
	(void) tg_doc_end(&buf, &doc);

	SET_VARSIZE(buf.data, buf.len);
	return (Jsonb *) buf.data;
}

/* The rows a purge deleted, per tenant ordinal (1..ntargets) and table. */
struct TgCapture
{
	MemoryContext cxt;			/* this struct and its arrays */
	MemoryContext rowcxt;		/* the rows */
	int			ntargets;
	int			ntables;
	TgRows	  **cells;			/* [(ord - 1) * ntables + tableno] or NULL */
	TgRowPlan **plans;			/* [tableno]: its rows' writer, or NULL */
	TgArena		arena;			/* the rows' pieces, in rowcxt */
	bool	   *used;			/* [tableno]: a row of it was kept */
	Size		bytes;
	bool		at_lost;		/* a row's address could not be kept */
};

/* See export_doc.h. */
TgCapture *
tg_capture_create(int ntargets, int ntables)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "tenant_guard purge archive",
											  ALLOCSET_DEFAULT_SIZES);
	TgCapture  *c = MemoryContextAllocZero(cxt, sizeof(TgCapture));
	Size		ncells = (Size) Max(ntargets, 1) * Max(ntables, 1);

	c->cxt = cxt;
	c->rowcxt = AllocSetContextCreate(cxt, "tenant_guard purge archive rows",
									  ALLOCSET_DEFAULT_SIZES);
	c->ntargets = ntargets;
	c->ntables = ntables;
	c->cells = MemoryContextAllocExtended(cxt, sizeof(TgRows *) * ncells,
										  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	c->used = MemoryContextAllocZero(cxt, sizeof(bool) * Max(ntables, 1));
	c->plans = MemoryContextAllocZero(cxt, sizeof(TgRowPlan *) * Max(ntables, 1));
	c->arena.cxt = c->rowcxt;
	return c;
}

/* The rows of tenant ord in table tableno, made on first use. */
static TgRows *
tg_capture_cell(TgCapture *c, int ord, int tableno)
{
	Size		idx;
	TgRows	   *cell;

	if (ord < 1 || ord > c->ntargets || tableno < 0 || tableno >= c->ntables)
		elog(ERROR, "purge archive: a deleted row of tenant %d, table %d, is out of range",
			 ord, tableno);
	idx = (Size) (ord - 1) * c->ntables + tableno;
	cell = c->cells[idx];
	if (cell == NULL)
	{
		cell = tg_arena_alloc(&c->arena, sizeof(TgRows));
		tg_rows_init(cell, c->rowcxt);
		cell->arena = &c->arena;
		c->cells[idx] = cell;
		c->used[tableno] = true;
	}
	return cell;
}

/* Count the bytes a row took; refuse to go past the limit. */
static void
tg_capture_grew(TgCapture *c, Size bytes)
{
	c->bytes += bytes;
	if (c->bytes > TG_CAPTURE_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("purge archive exceeds %zu MB", TG_CAPTURE_MAX_BYTES / (1024 * 1024)),
				 errdetail("A purge keeps the rows it deletes in memory until it writes the archive. Nothing was purged."),
				 errhint("Purge fewer tenants per call (batch_size, or purge_test_tenants_in_batches()), or purge with archive => false.")));
}

/* See export_doc.h: keep one deleted row (a jsonb datum) of a tenant. */
void
tg_capture_add(TgCapture *c, int ord, int tableno, Datum row)
{
	TgRows	   *cell = tg_capture_cell(c, ord, tableno);
	Size		before = cell->bytes;

	if (cell->plan)
		elog(ERROR, "purge archive: rows of table %d kept by two writers", tableno);
	tg_rows_add_jsonb(cell, row);
	tg_capture_grew(c, cell->bytes - before);
}

/*
 * How to_jsonb() turns a column into a jsonb value, for the types the row
 * writer below does itself: the same value, without taking the whole row
 * through JsonbValues.  Others (json, jsonb, arrays, composites, types
 * that are not built in, which may have a cast to json) are left to
 * to_jsonb().
 */
typedef enum TgColKind
{
	TG_COL_BOOL,				/* true / false */
	TG_COL_INT,					/* a number */
	TG_COL_NUMBER,				/* a number, or a string (NaN, Infinity) */
	TG_COL_DATETIME,			/* an ISO 8601 string */
	TG_COL_TEXT,				/* the text itself */
	TG_COL_OTHER				/* its output function's string */
} TgColKind;

/* The kind of a column of type typid; false: to_jsonb() must do it. */
static bool
tg_col_kind(Oid typid, TgColKind *kind)
{
	switch (typid)
	{
		case BOOLOID:
			*kind = TG_COL_BOOL;
			return true;
		case INT2OID:
		case INT4OID:
		case INT8OID:
			*kind = TG_COL_INT;
			return true;
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
			*kind = TG_COL_NUMBER;
			return true;
		case DATEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			*kind = TG_COL_DATETIME;
			return true;
		case TEXTOID:
		case VARCHAROID:
			*kind = TG_COL_TEXT;
			return true;
		case JSONOID:
		case JSONBOID:
			return false;
		default:
			if (typid >= FirstNormalObjectId || OidIsValid(get_element_type(typid)) ||
				type_is_rowtype(typid) || get_typtype(typid) == TYPTYPE_PSEUDO)
				return false;
			*kind = TG_COL_OTHER;
			return true;
	}
}

/* See export_doc.h. */
bool
tg_rowplan_supported(Oid relid)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	bool		ok = desc->natts > 0;

	for (int i = 0; ok && i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		TgColKind	kind;

		if (!att->attisdropped && !tg_col_kind(getBaseType(att->atttypid), &kind))
			ok = false;
	}
	relation_close(rel, AccessShareLock);
	return ok;
}

/* One column of the row writer. */
typedef struct TgRowCol
{
	int			attno;			/* in the slot */
	const char *name;
	int			namelen;
	Oid			typid;			/* base type */
	TgColKind	kind;
	FmgrInfo	out;			/* output function (NUMBER, OTHER) */
} TgRowCol;

struct TgRowPlan
{
	TupleDesc	desc;			/* the kept tuples' columns */
	int			ncols;
	TgRowCol   *cols;			/* in jsonb's key order */
	Datum	   *values;			/* [desc->natts]: the row being written */
	bool	   *isnull;
	MemoryContext rowcxt;		/* reset after each row */
	TgAtReader *reader;			/* rows kept by address: read by this */
	double		doc_rows;		/* rows written so far, */
	double		doc_bytes;		/* in so many bytes of jsonb */
	JEntry	   *keyentries;		/* every row's keys: their JEntries, */
	char	   *keys;			/* their bytes, */
	int			keylen;			/* so many */
};

/* jsonb's key order: shorter first, then bytewise. */
static int
tg_rowcol_cmp(const void *a, const void *b)
{
	const TgRowCol *x = a;
	const TgRowCol *y = b;

	if (x->namelen != y->namelen)
		return x->namelen < y->namelen ? -1 : 1;
	return memcmp(x->name, y->name, x->namelen);
}

/* The row writer of tuples of desc (every column). */
static TgRowPlan *
tg_rowplan_create(TupleDesc desc)
{
	TgRowPlan  *plan = palloc0(sizeof(TgRowPlan));

	plan->desc = desc;
	plan->values = palloc0(sizeof(Datum) * Max(desc->natts, 1));
	plan->isnull = palloc0(sizeof(bool) * Max(desc->natts, 1));
	plan->cols = palloc0(sizeof(TgRowCol) * Max(desc->natts, 1));
	for (int a = 1; a <= desc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a - 1);
		TgRowCol   *col = &plan->cols[plan->ncols++];
		Oid			outfn;
		bool		varlena;

		col->attno = a;
		col->name = pstrdup(NameStr(att->attname));
		col->namelen = strlen(col->name);
		col->typid = getBaseType(att->atttypid);
		if (!tg_col_kind(col->typid, &col->kind))
			elog(ERROR, "purge archive: column \"%s\" of type %s needs to_jsonb()",
				 col->name, format_type_be(att->atttypid));
		getTypeOutputInfo(col->typid, &outfn, &varlena);
		fmgr_info(outfn, &col->out);
	}
	qsort(plan->cols, plan->ncols, sizeof(TgRowCol), tg_rowcol_cmp);
	plan->rowcxt = AllocSetContextCreate(CurrentMemoryContext, "tenant_guard archive row",
										 ALLOCSET_SMALL_SIZES);

	/*
	 * The keys are the first children of every row, the same each time:
	 * written once here, copied into each row (the JEntries as
	 * tg_doc_child() makes them: a length, every JB_OFFSET_STRIDE-th the
	 * end offset)
	 */
	plan->keyentries = palloc(sizeof(JEntry) * Max(plan->ncols, 1));
	for (int i = 0; i < plan->ncols; i++)
		plan->keylen += plan->cols[i].namelen;
	plan->keys = palloc(Max(plan->keylen, 1));
	for (int i = 0, end = 0; i < plan->ncols; i++)
	{
		memcpy(plan->keys + end, plan->cols[i].name, plan->cols[i].namelen);
		end += plan->cols[i].namelen;
		plan->keyentries[i] = JENTRY_ISSTRING |
			(i % JB_OFFSET_STRIDE == 0 ? (uint32) end | JENTRY_HAS_OFF : (uint32) plan->cols[i].namelen);
	}
	return plan;
}

/* See export_doc.h: the row writer of table tableno, made on first use. */
TgRowPlan *
tg_capture_plan(TgCapture *c, int tableno, TupleDesc typeinfo, int first)
{
	int			n = typeinfo->natts - first + 1;
	TgRowPlan  *plan;
	TupleDesc	desc;
	MemoryContext old;

	if (tableno < 0 || tableno >= c->ntables || n < 1)
		elog(ERROR, "purge archive: table %d, %d columns, is out of range", tableno, n);
	plan = c->plans[tableno];
	if (plan)
	{
		if (plan->desc->natts != n)
			elog(ERROR, "purge archive: table %d returned %d columns, before %d",
				 tableno, n, plan->desc->natts);
		return plan;
	}
	old = MemoryContextSwitchTo(c->cxt);
	desc = CreateTemplateTupleDesc(n);
	for (int i = 0; i < n; i++)
		TupleDescCopyEntry(desc, i + 1, typeinfo, first + i);
	plan = tg_rowplan_create(desc);
	MemoryContextSwitchTo(old);
	c->plans[tableno] = plan;
	return plan;
}

/*
 * See export_doc.h: the row writer of table tableno for rows kept by
 * address: the table's columns (those RETURNING lists for the same table,
 * tg_capture_col), made on first use.
 */
TgRowPlan *
tg_capture_plan_rel(TgCapture *c, int tableno, Oid relid)
{
	Relation	rel;
	TupleDesc	reldesc;
	TupleDesc	desc;
	int			n = 0;
	MemoryContext old;

	if (tableno < 0 || tableno >= c->ntables)
		elog(ERROR, "purge archive: table %d is out of range", tableno);
	rel = relation_open(relid, AccessShareLock);
	reldesc = RelationGetDescr(rel);
	for (int i = 0; i < reldesc->natts; i++)
		n += TupleDescAttr(reldesc, i)->attisdropped ? 0 : 1;
	if (c->plans[tableno] == NULL && n > 0)
	{
		old = MemoryContextSwitchTo(c->cxt);
		desc = CreateTemplateTupleDesc(n);
		for (int i = 0, a = 1; i < reldesc->natts; i++)
			if (!TupleDescAttr(reldesc, i)->attisdropped)
				TupleDescCopyEntry(desc, a++, reldesc, i + 1);
		c->plans[tableno] = tg_rowplan_create(desc);
		MemoryContextSwitchTo(old);
	}
	relation_close(rel, AccessShareLock);
	if (c->plans[tableno] == NULL)
		elog(ERROR, "purge archive: table %d has no columns", tableno);
	if (c->plans[tableno]->desc->natts != n)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" changed during the purge", get_rel_name(relid)),
				 errdetail("It has %d columns, the rows the purge deleted from it before %d: an ALTER TABLE ran in the purge's own transaction. Nothing was purged.",
						   n, c->plans[tableno]->desc->natts)));
	if (c->plans[tableno]->reader == NULL)
		c->plans[tableno]->reader = tg_at_reader_create(relid, c->plans[tableno]->desc, c->cxt);
	tg_at_next_statement(c->plans[tableno]->reader);
	return c->plans[tableno];
}

/* One column's value as to_jsonb() makes it. */
static JEntry
tg_rowcol_value(StringInfo buf, TgRowCol *col, Datum d)
{
	char	   *s;

	switch (col->kind)
	{
		case TG_COL_BOOL:
			return DatumGetBool(d) ? JENTRY_ISBOOL_TRUE : JENTRY_ISBOOL_FALSE;
		case TG_COL_INT:
			return tg_doc_int(buf, col->typid == INT2OID ? DatumGetInt16(d) :
							  col->typid == INT4OID ? DatumGetInt32(d) :
							  DatumGetInt64(d));
		case TG_COL_NUMBER:
			s = OutputFunctionCall(&col->out, d);
			if (IsValidJsonNumber(s, strlen(s)))
				return tg_doc_numeric(buf, DatumGetNumeric(DirectFunctionCall3(numeric_in,
																			   CStringGetDatum(s),
																			   ObjectIdGetDatum(InvalidOid),
																			   Int32GetDatum(-1))));
			return tg_doc_string(buf, s);
		case TG_COL_DATETIME:
			return tg_doc_string(buf, JsonEncodeDateTime(NULL, d, col->typid, NULL));
		case TG_COL_TEXT:
			{
				text	   *t = DatumGetTextPP(d);

				return tg_doc_string_len(buf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
			}
		case TG_COL_OTHER:
			break;
	}
	return tg_doc_string(buf, OutputFunctionCall(&col->out, d));
}

/*
 * The row in plan->values and plan->isnull as a jsonb container at the
 * end of buf (its JEntry in the parent); buf is 4-aligned where jsonb's
 * data starts.
 */
static JEntry
tg_rowplan_write(StringInfo buf, TgRowPlan *plan)
{
	TgDocLevel	l;
	JEntry		result;
	MemoryContext old = MemoryContextSwitchTo(plan->rowcxt);

	tg_doc_begin(buf, &l, 2 * plan->ncols, (uint32) plan->ncols | JB_FOBJECT);
	memcpy(buf->data + l.jentries, plan->keyentries, sizeof(JEntry) * plan->ncols);
	appendBinaryStringInfo(buf, plan->keys, plan->keylen);
	l.i = plan->ncols;
	l.totallen = plan->keylen;
	for (int i = 0; i < plan->ncols; i++)
	{
		int			a = plan->cols[i].attno - 1;

		tg_doc_child(buf, &l, plan->isnull[a] ? JENTRY_ISNULL :
					 tg_rowcol_value(buf, &plan->cols[i], plan->values[a]));
	}
	result = tg_doc_end(buf, &l);
#ifdef TG_USE_ASSERT
	{
		/* the same bytes as writing the keys one by one */
		StringInfoData check;
		TgDocLevel	c;

		static const char lead[4] = {0};
		int			nlead = l.base % 4;

		/* as far from 4-byte alignment as the row in buf */
		initStringInfo(&check);
		appendBinaryStringInfo(&check, lead, nlead);
		tg_doc_begin(&check, &c, 2 * plan->ncols, (uint32) plan->ncols | JB_FOBJECT);
		for (int i = 0; i < plan->ncols; i++)
			tg_doc_child(&check, &c, tg_doc_string_len(&check, plan->cols[i].name, plan->cols[i].namelen));
		for (int i = 0; i < plan->ncols; i++)
		{
			int			a = plan->cols[i].attno - 1;

			tg_doc_child(&check, &c, plan->isnull[a] ? JENTRY_ISNULL :
						 tg_rowcol_value(&check, &plan->cols[i], plan->values[a]));
		}
		TG_ASSERT(tg_doc_end(&check, &c) == result && check.len - nlead == buf->len - l.base &&
				  memcmp(check.data + nlead, buf->data + l.base, buf->len - l.base) == 0);
	}
#endif
	MemoryContextSwitchTo(old);
	MemoryContextReset(plan->rowcxt);
	return result;
}

/* A kept minimal tuple as a jsonb container at the end of buf. */
static JEntry
tg_rowplan_write_tuple(StringInfo buf, TgRowPlan *plan, MinimalTuple mt)
{
	HeapTupleData htup;

	htup.t_len = mt->t_len + MINIMAL_TUPLE_OFFSET;
	htup.t_data = (HeapTupleHeader) ((char *) mt - MINIMAL_TUPLE_OFFSET);
	heap_deform_tuple(&htup, plan->desc, plan->values, plan->isnull);
	return tg_rowplan_write(buf, plan);
}

/*
 * A table's rows written (nrows in bytes of jsonb): drop the pin of the
 * last page read; remember the size for the next document's guess.
 */
static void
tg_rowplan_done(TgRowPlan *plan, int64 nrows, int bytes)
{
	if (plan->reader)
		tg_at_reader_release(plan->reader);
	plan->doc_rows += nrows;
	plan->doc_bytes += bytes;
}

/*
 * Bytes of jsonb rows will take: as many per row as the documents before;
 * for the first, about twice the minimal tuples, or 64 a row kept by
 * address.
 */
static double
tg_rowplan_guess(TgRowPlan *plan, TgRows *rows)
{
	if (plan->doc_rows > 0)
		return rows->nrows * (plan->doc_bytes / plan->doc_rows) * 1.05;
	return Max((double) rows->bytes, rows->nrows * 64.0);
}

/* A row kept by address, read back, as a jsonb container at the end of buf. */
static JEntry
tg_rowplan_write_at(StringInfo buf, TgRowPlan *plan, const TgRowAt *at, const TgRowAt *end)
{
	if (plan->reader == NULL)
		elog(ERROR, "purge archive: rows kept by address without their reader");
	tg_at_read(plan->reader, at, end, plan->values, plan->isnull);
	return tg_rowplan_write(buf, plan);
}

/*
 * See export_doc.h: keep one deleted row, its columns the slot's from
 * first on, as a minimal tuple (about half the bytes of its jsonb; no
 * TOAST pointers: the rows they point to are being deleted).
 */
void
tg_capture_add_slot(TgCapture *c, int ord, int tableno, TgRowPlan *plan, TupleTableSlot *slot,
					int first)
{
	TgRows	   *cell = tg_capture_cell(c, ord, tableno);
	TupleDesc	desc = plan->desc;
	Size		before = cell->bytes;
	bool		hasnull = false;
	Size		hoff;
	Size		datalen;
	MinimalTuple mt;
	MemoryContext old;

	if (cell->plan == NULL)
		cell->plan = plan;
	if (cell->plan != plan || c->plans[tableno] != plan)
		elog(ERROR, "purge archive: rows of table %d kept by two writers", tableno);
	slot_getsomeattrs(slot, first + desc->natts - 1);
	old = MemoryContextSwitchTo(plan->rowcxt);
	for (int i = 0; i < desc->natts; i++)
	{
		Datum		d = slot->tts_values[first - 1 + i];

		plan->isnull[i] = slot->tts_isnull[first - 1 + i];
		if (!plan->isnull[i] && TupleDescAttr(desc, i)->attlen == -1 &&
			VARATT_IS_EXTERNAL(DatumGetPointer(d)))
			d = PointerGetDatum(detoast_external_attr((struct varlena *) DatumGetPointer(d)));
		plan->values[i] = d;
		hasnull |= plan->isnull[i];
	}

	/* heap_form_minimal_tuple(), written in place */
	hoff = MAXALIGN(offsetof(MinimalTupleData, t_bits) + (hasnull ? BITMAPLEN(desc->natts) : 0));
	datalen = heap_compute_data_size(desc, plan->values, plan->isnull);
	if (hoff + datalen > MaxAllocSize)
		tg_capture_grew(c, hoff + datalen);	/* past the limit: its error */
	mt = (MinimalTuple) tg_rows_reserve(cell, MAXALIGN(hoff + datalen), false);
	memset(mt, 0, MAXALIGN(hoff + datalen));
	mt->t_len = hoff + datalen;
	HeapTupleHeaderSetNatts(mt, desc->natts);
	mt->t_hoff = hoff + MINIMAL_TUPLE_OFFSET;
	heap_fill_tuple(desc, plan->values, plan->isnull, (char *) mt + hoff, datalen,
					&mt->t_infomask, hasnull ? mt->t_bits : NULL);
	TG_ASSERT(memcmp(mt, heap_form_minimal_tuple(desc, plan->values, plan->isnull),
					 mt->t_len) == 0);
	MemoryContextSwitchTo(old);
	MemoryContextReset(plan->rowcxt);
	tg_capture_grew(c, cell->bytes - before);
}

/* See export_doc.h: keep the address of one deleted row of a tenant. */
void
tg_capture_add_at(TgCapture *c, int ord, int tableno, Oid relid, ItemPointer tid)
{
	TgRows	   *cell = tg_capture_cell(c, ord, tableno);
	TgRowPlan  *plan = c->plans[tableno];
	TgRowAt    *at;

	if (plan == NULL)
		elog(ERROR, "purge archive: rows of table %d kept by address without their writer", tableno);
	if (cell->plan == NULL)
		cell->plan = plan;
	if (cell->plan != plan)
		elog(ERROR, "purge archive: rows of table %d kept by two writers", tableno);
	if (plan->reader == NULL)
		elog(ERROR, "purge archive: rows of table %d kept by address without their reader", tableno);
	if (!tg_at_note(plan->reader, relid))
	{
		/* the statement's matches do not count: it runs again, RETURNING */
		c->at_lost = true;
		return;
	}
	at = (TgRowAt *) tg_rows_reserve(cell, sizeof(TgRowAt), true);
	at->rel = relid;
	at->tid = *tid;
	tg_capture_grew(c, sizeof(TgRowAt));
}

/* See export_doc.h: forget every row (a purge that runs again). */
void
tg_capture_reset(TgCapture *c)
{
	Size		ncells = (Size) Max(c->ntargets, 1) * Max(c->ntables, 1);

	MemoryContextReset(c->rowcxt);
	c->arena.next = NULL;
	c->arena.left = 0;
	c->arena.chunk = 0;
	memset(c->cells, 0, sizeof(TgRows *) * ncells);
	memset(c->used, 0, sizeof(bool) * Max(c->ntables, 1));
	c->bytes = 0;
	c->at_lost = false;
}

/* See export_doc.h: was a row's address not kept (since the last reset)? */
bool
tg_capture_at_lost(TgCapture *c)
{
	return c->at_lost;
}

/* See export_doc.h: the rows of one tenant in one table (NULL: none). */
TgRows *
tg_capture_rows(TgCapture *c, int ord, int tableno)
{
	return c->cells[(Size) (ord - 1) * c->ntables + tableno];
}

/* See export_doc.h: did any tenant have rows in this table? */
bool
tg_capture_table_used(TgCapture *c, int tableno)
{
	return c->used[tableno];
}

/* See export_doc.h: bytes of rows kept. */
Size
tg_capture_bytes(TgCapture *c)
{
	return c->bytes;
}

/* See export_doc.h: also closes the tables rows were read back from. */
void
tg_capture_free(TgCapture *c)
{
	for (int i = 0; i < c->ntables; i++)
		if (c->plans[i] && c->plans[i]->reader)
			tg_at_reader_free(c->plans[i]->reader);
	MemoryContextDelete(c->cxt);
}
