/*
 * Legacy iptables tables (iptables-legacy, ip6tables-legacy) as text. The
 * kernel keeps each table as one blob, replaced whole by
 * setsockopt(IPT_SO_SET_REPLACE); its readable form is what
 * iptables-legacy-save prints, extension by extension. Rather than link
 * libxtables and its plugins into the agent, the dump runs that tool in
 * the table's network namespace (posix_spawn, no shell, bounded output
 * and time, killed past its deadline).
 *
 * Also kept here: the last known text per (network namespace, family,
 * table), which is the "before" of the table's next change.
 */
#ifndef CT_IPT_LEGACY_H
#define CT_IPT_LEGACY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CT_IPT_TABLE_LEN 32          /* XT_TABLE_MAXNAMELEN */
#define CT_IPT_TEXT_MAX  (64u << 10) /* a dump longer than this is cut */
#define CT_IPT_RULE_LEN  256

/* "ip" and "ip6": the families with a legacy save tool. */
bool ct_ipt_legacy_family_ok(const char *family);
/* A table name as the kernel allows it ([A-Za-z0-9_-], 1..31 chars). */
bool ct_ipt_legacy_table_ok(const char *table);

/*
 * All of the below work in the calling thread's network namespace (the
 * collector's namespace worker enters the table's first).
 *
 * The tables of family that exist there. Reading a table that does not
 * exist creates it, so only these are ever dumped. Returns how many (at
 * most max), or -1 with errno.
 */
int ct_ipt_legacy_tables(const char *family, char names[][CT_IPT_TABLE_LEN], size_t max);

/*
 * One table in iptables-save form, without the "# Generated/Completed"
 * comments and the chains' packet counters (they change with every dump
 * and every packet, the rules do not): *text is malloc'd. Returns 0, or
 * -1 with errno: ENOENT (no such table there: never created by reading),
 * ENOEXEC (no save tool), ETIMEDOUT (killed after timeout_ms), EIO (it
 * failed), EINVAL (family or table name refused).
 */
int ct_ipt_legacy_dump(const char *family, const char *table, int timeout_ms, char **text);

/* A table's size as the kernel states it (and a replace of it declares):
 * entries and bytes. Read before and after a dump, an unchanged size says
 * the text is the table at that size. */
struct ct_ipt_size {
	uint32_t entries, bytes;
};
/* The same dump, with the table's size when it was taken (size->entries 0:
 * it changed while being read). */
int ct_ipt_legacy_dump_sized(const char *family, const char *table, int timeout_ms, char **text,
			     struct ct_ipt_size *size);

/* Raw iptables-save output -> the form above, in place. */
void ct_ipt_legacy_normalize(char *text);

/* What a line diff of two dumps ("-old"/"+new" lines) changed. */
struct ct_ipt_change {
	char chain[64];              /* the one chain touched; "" if several */
	char rule[CT_IPT_RULE_LEN];  /* the one rule added or removed ("-A INPUT ...",
				      * or -P/-N/-X for a chain); "" if not one */
	unsigned added, removed;     /* rule lines */
};
void ct_ipt_legacy_describe(const char *diff, struct ct_ipt_change *c);
/* Does the dump hold no rule in chain? */
bool ct_ipt_legacy_chain_empty(const char *text, const char *chain);

/* Last known text of a table, as a malloc'd copy in *text; false if none. */
bool ct_ipt_legacy_known(uint32_t netns, const char *family, const char *table, char **text);
/* Remember text (copied) as the table's last known; NULL forgets it. */
void ct_ipt_legacy_remember(uint32_t netns, const char *family, const char *table,
			    const char *text);
/* The last known text is not the table's state before its next change:
 * it was read after later changes than the one whose "after" it is (the
 * collector was behind), or a change since was not read. Set by the
 * caller, cleared by the next remember. */
void ct_ipt_legacy_mark_ahead(uint32_t netns, const char *family, const char *table);
bool ct_ipt_legacy_ahead(uint32_t netns, const char *family, const char *table);
/* Every known table (called with the table locked: copy what you keep). */
void ct_ipt_legacy_known_each(void (*cb)(void *ctx, uint32_t netns, const char *family,
					 const char *table, const char *text),
			      void *ctx);
/* The namespace's tables were all read (primed): a table not known there
 * did not exist, and its first change starts from nothing. */
void ct_ipt_legacy_mark_primed(uint32_t netns);
bool ct_ipt_legacy_primed(uint32_t netns);
void ct_ipt_legacy_forget_all(void);
/* Texts forgotten to make room for another table's (KNOWN_MAX kept). */
uint64_t ct_ipt_legacy_forgotten(void);

#endif
