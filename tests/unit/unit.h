/* Minimal unit-test harness: TEST(name) { ... CHECK(cond); } registers
 * itself; main.c runs them all and prints "ok NAME" / "FAIL NAME: why". */
#ifndef CT_UNIT_H
#define CT_UNIT_H

#include <stdio.h>
#include <string.h>

struct ct_unit_test {
	const char *name;
	void (*fn)(int *failed);
	struct ct_unit_test *next;
};
void ct_unit_register(struct ct_unit_test *t);

#define TEST(name)                                                          \
	static void name(int *ct_failed_);                                  \
	static struct ct_unit_test name##_reg = { #name, name, NULL };      \
	__attribute__((constructor)) static void name##_ctor(void)          \
	{ ct_unit_register(&name##_reg); }                                  \
	static void name(int *ct_failed_)

#define CHECK(cond) do {                                                    \
	if (!(cond)) {                                                      \
		printf("    %s:%d: CHECK(%s)\n", __FILE__, __LINE__, #cond);    \
		*ct_failed_ = 1;                                            \
		return;                                                     \
	} } while (0)

#define CHECK_STR(a, b) do {                                                \
	const char *a_ = (a), *b_ = (b);                                    \
	if (!a_ || !b_ || strcmp(a_, b_)) {                                 \
		printf("    %s:%d: '%s' != '%s'\n", __FILE__, __LINE__,       \
		       a_ ? a_ : "(null)", b_ ? b_ : "(null)");             \
		*ct_failed_ = 1;                                            \
		return;                                                     \
	} } while (0)

#endif
