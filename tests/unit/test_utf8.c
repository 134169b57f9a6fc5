#include <stdlib.h>
#include "unit.h"
#include "export/event_utf8.h"
#include "export/format.h"
#include "export/pb_json.h"
#include "lib/utf8.h"

TEST(utf8_strict_validation)
{
	CHECK(ct_utf8_valid("plain ascii", 11));
	CHECK(ct_utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14));
	CHECK(!ct_utf8_valid("\xff", 1));
	CHECK(!ct_utf8_valid("\xc0\xaf", 2));          /* overlong '/' */
	CHECK(!ct_utf8_valid("\xe0\x80\xaf", 3));      /* overlong */
	CHECK(!ct_utf8_valid("\xed\xa0\x80", 3));      /* surrogate */
	CHECK(!ct_utf8_valid("\xf4\x90\x80\x80", 4));  /* past U+10FFFF */
	CHECK(!ct_utf8_valid("\xe2\x82", 2));          /* cut short */
	CHECK(!ct_utf8_valid("abcdefgh\x80", 9));      /* after an ASCII word */
}

TEST(utf8_repair_replaces_each_bad_byte)
{
	char out[64];

	CHECK(ct_utf8_repair("a\xff" "b\xe2\x82", 5, out, sizeof(out)) == 11);
	CHECK_STR(out, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd");
	CHECK(ct_utf8_repaired_len("a\xff" "b\xe2\x82", 5) == 11);
	/* a short buffer ends on a character boundary */
	CHECK(ct_utf8_repair("\xff\xff", 2, out, 6) == 3);
	CHECK(ct_utf8_valid(out, strlen(out)));
	CHECK(ct_utf8_cut("ab\xe2\x82", 4) == 2);
	CHECK(ct_utf8_cut("ab\xe2\x82\xac", 5) == 5);
}

static char *render(void (*fn)(FILE *, const char *), const char *s)
{
	static char buf[512];
	FILE *m = fmemopen(buf, sizeof(buf), "w");

	fn(m, s);
	fclose(m);
	return buf;
}

TEST(json_strings_are_valid_utf8_with_controls_escaped)
{
	CHECK_STR(render(ct_json_str, "a\xff\x1b[31m\xc2\x9b\xe2\x80\xae"),
		  "\"a\\ufffd\\u001b[31m\\u009b\\u202e\"");
	CHECK_STR(render(ct_json_str, "caf\xc3\xa9"), "\"caf\xc3\xa9\"");
}

TEST(text_output_escapes_terminal_controls)
{
	/* an OSC title sequence, a CSI colour, a bad byte, a bidi override */
	CHECK_STR(render(ct_text_quoted, "\x1b]0;pwned\x07\x1b[2J\xff\xe2\x80\xae"),
		  "\"\\x1b]0;pwned\\x07\\x1b[2J\\xff\\u202e\"");
	CHECK_STR(render(ct_text_word, "/usr/bin/ip"), "/usr/bin/ip");
	CHECK_STR(render(ct_text_word, "a b"), "\"a b\"");
	CHECK_STR(render(ct_text_word, "\xc2\x9b" "1m"), "\"\\u009b1m\"");
}

TEST(event_with_bad_bytes_gets_a_repaired_copy_and_raw_strings)
{
	PbEvent ev = CHANGETRACE__V1__EVENT__INIT;
	PbProcess p = CHANGETRACE__V1__PROCESS__INIT;
	PbFileChange f = CHANGETRACE__V1__FILE_CHANGE__INIT;
	char *argv[] = { "/bin/echo", "\xff" "x" };
	PbEvent *out;

	ev.event_id = "e-1";
	ev.process = &p;
	p.comm = "echo";
	p.argv = argv;
	p.n_argv = 2;
	ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_FILE;
	ev.file = &f;
	f.path = "/tmp/w/\xfe\x1b";
	CHECK(ct_event_utf8(&(PbEvent)CHANGETRACE__V1__EVENT__INIT) != NULL);
	out = ct_event_utf8(&ev);
	CHECK(out && out != &ev);
	CHECK(ct_pb_strings_valid(&out->base));
	CHECK_STR(out->process->argv[1], "\xef\xbf\xbdx");
	CHECK_STR(out->process->argv[0], "/bin/echo");
	CHECK_STR(out->file->path, "/tmp/w/\xef\xbf\xbd\x1b");
	CHECK(out->n_raw_strings == 2);
	CHECK_STR(out->raw_strings[0]->field, "process.argv[1]");
	CHECK(out->raw_strings[0]->value.len == 2 && !memcmp(out->raw_strings[0]->value.data, "\xffx", 2));
	CHECK_STR(out->raw_strings[1]->field, "file.path");
	CHECK(out->raw_strings[1]->value.len == 9);
	/* the original is untouched */
	CHECK_STR(argv[1], "\xffx");
	/* JSON: the raw bytes in base64 */
	{
		char buf[2048];
		FILE *m = fmemopen(buf, sizeof(buf), "w");

		ct_pb_json_write(m, &out->base);
		fclose(m);
		CHECK(strstr(buf, "{\"field\":\"process.argv[1]\",\"value\":\"/3g=\"}"));
	}
	ct_event_utf8_release(&ev, out);
	/* a valid event is used as it is */
	argv[1] = "x";
	f.path = "/tmp/w/ok";
	CHECK(ct_event_utf8(&ev) == &ev);
}
