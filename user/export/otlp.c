/*
 * The OTLP exporter thread (see otlp.h). The agent loop only signals it
 * (ct_otlp_notify) and reads its counters; all I/O -- store reads, HTTP,
 * the position file -- happens here.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <zlib.h>

#include "otlp.h"
#include "otlp_map.h"
#include "store/store.h"
#include "lib/util.h"

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
#define RETRY_AFTER_MAX_S 300
#define HTTP_TIMEOUT_MS 10000
#define FINAL_TIMEOUT_MS 2000
#define RESPONSE_MAX (64 * 1024)

struct ct_otlp {
	char url[2048];
	char store_dir[PATH_MAX];
	char pos_path[PATH_MAX + 32];
	char store_id[17];
	char host[256];
	char instance_id[37];     /* service.instance.id, from the store's id */
	pthread_t thr;
	bool started;
	pthread_mutex_t mu;       /* guards what follows up to st */
	pthread_cond_t cv;
	bool stop;                /* finish: one last pass, no retries */
	bool notified;
	uint64_t agent_seq;
	uint64_t oldest_pending_ns;
	struct ct_otlp_stats st;
	/* exporter thread only */
	uint64_t pos;
	bool final_pass;
	CURL *curl;
	struct curl_slist *hdrs;
	struct ct_otlp_batch batch;
	struct ct_otlp_rec rec;
	uint64_t batch_oldest_ns;
	size_t done_hi;           /* records of the batch done with, in order */
	uint8_t *resp;
	size_t resp_len;
	long retry_after_s;       /* from the last answer; -1 none */
	unsigned warned;
};

int ct_otlp_check_endpoint(const char *url)
{
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
		ct_err("agent: --otlp-endpoint must be an http:// or https:// URL, not '%s'", url);
		return -1;
	}
	if (strlen(url) > 1900 || strpbrk(url, " \t\r\n")) {
		ct_err("agent: --otlp-endpoint: not a valid URL");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ position */

/* "<store id> <seq>\n": a position for another store is not ours. */
static int position_load(struct ct_otlp *o, uint64_t *pos)
{
	char buf[64], id[17];
	unsigned long long v;
	ssize_t n = ct_read_file(o->pos_path, buf, sizeof(buf) - 1);

	if (n < 0)
		return errno == ENOENT ? 0 : -1;
	buf[n] = '\0';
	if (sscanf(buf, "%16[0-9a-f] %llu", id, &v) != 2 || strcmp(id, o->store_id))
		return -1;
	*pos = v;
	return 1;
}

static void position_save(struct ct_otlp *o)
{
	char tmp[sizeof(o->pos_path) + 8], buf[64];
	int fd, n;

	snprintf(tmp, sizeof(tmp), "%s.tmp", o->pos_path);
	n = snprintf(buf, sizeof(buf), "%s %llu\n", o->store_id, (unsigned long long)o->pos);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0 || write(fd, buf, n) != n || fdatasync(fd) < 0 || rename(tmp, o->pos_path) < 0) {
		pthread_mutex_lock(&o->mu);
		o->st.position_errors++;
		pthread_mutex_unlock(&o->mu);
	}
	if (fd >= 0)
		close(fd);
}

/* ------------------------------------------------------------ collect */

static int collect_cb(const PbEvent *ev, void *ctx)
{
	struct ct_otlp *o = ctx;
	uint64_t expect = o->batch.count ? o->batch.last_seq + 1 : o->pos + 1;

	if (ev->seq <= o->pos || (o->batch.count && ev->seq <= o->batch.last_seq))
		return 0;
	if (ev->seq > expect && o->pos) {
		pthread_mutex_lock(&o->mu);
		o->st.seq_skipped += ev->seq - expect;
		pthread_mutex_unlock(&o->mu);
	}
	ct_otlp_map(ev, &o->rec, ct_now_wall_ns());
	if (ct_otlp_batch_add(&o->batch, &o->rec.lr, ev->seq) < 0)
		return 1;
	if (o->batch.count == 1)
		o->batch_oldest_ns = ev->time_unix_nano;
	return o->batch.count >= CT_OTLP_BATCH_MAX || o->batch.len >= CT_OTLP_BATCH_BYTES;
}

/* Fill the batch with the next stored events after pos. */
static void collect(struct ct_otlp *o)
{
	struct ct_store_filter f = CT_STORE_FILTER_INIT;
	struct ct_store_reader *r;
	char err[256];

	ct_otlp_batch_reset(&o->batch);
	if (ct_store_reader_open(&r, o->store_dir, err, sizeof(err)) < 0)
		return;
	f.from_seq = o->pos + 1;
	ct_store_scan(r, &f, collect_cb, o);
	ct_store_reader_close(r);
}

/* ------------------------------------------------------------ HTTP */

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct ct_otlp *o = ctx;
	size_t len = size * n;

	if (o->resp_len + len > RESPONSE_MAX)
		return len;  /* keep the head; the tail is not needed */
	memcpy(o->resp + o->resp_len, p, len);
	o->resp_len += len;
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct ct_otlp *o = ctx;
	size_t len = size * n;
	char v[128];

	if (len > 12 && !strncasecmp(p, "Retry-After:", 12)) {
		size_t k = len - 12 < sizeof(v) - 1 ? len - 12 : sizeof(v) - 1;
		char *end;
		long s;

		memcpy(v, p + 12, k);
		v[k] = '\0';
		v[strcspn(v, "\r\n")] = '\0';
		s = strtol(v, &end, 10);
		if (end != v && s >= 0) {
			o->retry_after_s = s;
		} else {
			time_t t = curl_getdate(v + strspn(v, " "), NULL);

			if (t > 0)
				o->retry_after_s = t > time(NULL) ? t - time(NULL) : 0;
		}
		if (o->retry_after_s > RETRY_AFTER_MAX_S)
			o->retry_after_s = RETRY_AFTER_MAX_S;
	}
	return len;
}

/* Abort a transfer in flight when the agent stops (not the last pass). */
static int on_progress(void *ctx, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	struct ct_otlp *o = ctx;
	bool stop;

	if (o->final_pass)
		return 0;
	pthread_mutex_lock(&o->mu);
	stop = o->stop;
	pthread_mutex_unlock(&o->mu);
	return stop;
}

static uint8_t *gzip(const uint8_t *in, size_t len, size_t *out_len)
{
	z_stream z = { 0 };
	uLong cap = compressBound(len) + 64;
	uint8_t *out = malloc(cap);

	if (!out || deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(out);
		return NULL;
	}
	z.next_in = (uint8_t *)in;
	z.avail_in = len;
	z.next_out = out;
	z.avail_out = cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(out);
		return NULL;
	}
	*out_len = z.total_out;
	deflateEnd(&z);
	return out;
}

/* SPLIT: the backend refused the data itself (400 Bad Request, e.g. a
 * string it will not decode; 413 Too Large; 422): the records are sent
 * again in halves until the one it refuses is alone. REFUSED: any other
 * answer the OTLP spec says not to retry (401, 403, 404, ...), about the
 * request rather than one record. */
enum outcome { SENT, RETRY, REFUSED, SPLIT };

static enum outcome post(struct ct_otlp *o, const uint8_t *body, size_t len, long *status,
			 int64_t *rejected, char *why, size_t whylen)
{
	CURLcode rc;

	o->resp_len = 0;
	o->retry_after_s = -1;
	*status = 0;
	*rejected = 0;
	curl_easy_setopt(o->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(o->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(o->curl, CURLOPT_TIMEOUT_MS, o->final_pass ? FINAL_TIMEOUT_MS : HTTP_TIMEOUT_MS);
	rc = curl_easy_perform(o->curl);
	pthread_mutex_lock(&o->mu);
	o->st.requests++;
	pthread_mutex_unlock(&o->mu);
	if (rc != CURLE_OK) {
		snprintf(why, whylen, "%s", curl_easy_strerror(rc));
		return RETRY;
	}
	curl_easy_getinfo(o->curl, CURLINFO_RESPONSE_CODE, status);
	if (*status >= 200 && *status < 300) {
		Changetrace__Otlp__ExportLogsServiceResponse *r =
			o->resp_len ? changetrace__otlp__export_logs_service_response__unpack(NULL, o->resp_len, o->resp) : NULL;

		if (r && r->partial_success && r->partial_success->rejected_log_records > 0) {
			*rejected = r->partial_success->rejected_log_records;
			snprintf(why, whylen, "%s", r->partial_success->error_message);
		}
		if (r)
			changetrace__otlp__export_logs_service_response__free_unpacked(r, NULL);
		return SENT;
	}
	snprintf(why, whylen, "HTTP %ld", *status);
	if (*status == 429 || *status == 502 || *status == 503 || *status == 504)
		return RETRY;
	if (*status == 400 || *status == 413 || *status == 422)
		return SPLIT;
	return REFUSED;
}

/* Sleep up to ms, or until the agent stops. Returns true if stopping. */
static bool nap(struct ct_otlp *o, long ms)
{
	struct timespec ts;
	bool stop;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&o->mu);
	while (!o->stop && !o->notified &&
	       pthread_cond_timedwait(&o->cv, &o->mu, &ts) != ETIMEDOUT)
		;
	o->notified = false;
	stop = o->stop;
	pthread_mutex_unlock(&o->mu);
	return stop;
}

/* Exponential backoff with jitter: half fixed, half random. */
static long backoff_ms(unsigned attempt, unsigned *seed)
{
	long d = BACKOFF_MIN_MS;

	while (attempt-- && d < BACKOFF_MAX_MS)
		d *= 2;
	if (d > BACKOFF_MAX_MS)
		d = BACKOFF_MAX_MS;
	return d / 2 + rand_r(seed) % (d / 2 + 1);
}

static void note_status(struct ct_otlp *o, long status)
{
	pthread_mutex_lock(&o->mu);
	o->st.last_http_status = status;
	pthread_mutex_unlock(&o->mu);
}

#define REFUSED_LOG_MAX 100	/* refused records named on stderr, then counted only */

/* One record the backend will not take, alone in its request: counted,
 * and named by seq, so the event can be found in the store. */
static void refused_one(struct ct_otlp *o, uint64_t seq, const char *why)
{
	bool log;

	pthread_mutex_lock(&o->mu);
	o->st.refused++;
	o->st.last_refused_seq = seq;
	log = o->st.refused <= REFUSED_LOG_MAX;
	pthread_mutex_unlock(&o->mu);
	if (log)
		ct_err("otlp: backend refused the event with seq %llu (%s); the rest of its batch "
		       "was sent, the event is in the store", (unsigned long long)seq, why);
}

/*
 * Deliver records [lo, hi) of the batch: true when they are done with
 * (sent, or refused), false when the agent stops first. A refused data
 * request (SPLIT) is sent again as two halves, recursively: a poison
 * record costs about 2 log2(n) requests, and only it is lost.
 */
static bool deliver_range(struct ct_otlp *o, size_t lo, size_t hi, unsigned *seed)
{
	size_t raw_len, gz_len, n = hi - lo;
	uint8_t *raw = ct_otlp_request_range(&o->batch, lo, hi, o->host, CT_VERSION, o->instance_id,
					     &raw_len);
	uint8_t *gz = raw ? gzip(raw, raw_len, &gz_len) : NULL;
	bool done = false;

	free(raw);
	if (!gz)
		return false;
	for (unsigned attempt = 0;; attempt++) {
		char why[256] = "";
		int64_t rejected;
		long status, wait_ms;
		enum outcome r = post(o, gz, gz_len, &status, &rejected, why, sizeof(why));

		note_status(o, status);
		if (r == SPLIT) {
			free(gz);
			if (n == 1) {
				refused_one(o, o->batch.seqs[lo], why);
				o->done_hi = hi;
				return true;
			}
			return deliver_range(o, lo, lo + n / 2, seed) &&
			       deliver_range(o, lo + n / 2, hi, seed);
		}
		if (r == SENT || r == REFUSED) {
			pthread_mutex_lock(&o->mu);
			if (r == SENT) {
				o->st.rejected += rejected;
				o->st.exported += n - (rejected < (int64_t)n ? rejected : (int64_t)n);
			} else {
				o->st.failed += n;
			}
			pthread_mutex_unlock(&o->mu);
			if ((r == REFUSED || rejected) && o->warned++ < 10)
				ct_err("otlp: %s %zu records (seq %llu-%llu): %s",
				       r == REFUSED ? "backend refused" : "backend rejected some of", n,
				       (unsigned long long)o->batch.seqs[lo],
				       (unsigned long long)o->batch.seqs[hi - 1], why);
			o->done_hi = hi;
			done = true;
			break;
		}
		if (o->final_pass)
			break;
		wait_ms = o->retry_after_s >= 0 ? o->retry_after_s * 1000 : backoff_ms(attempt, seed);
		if (o->warned++ < 10)
			ct_err("otlp: export to %s failed (%s); retrying in %ld ms", o->url, why, wait_ms);
		pthread_mutex_lock(&o->mu);
		o->st.retries++;
		pthread_mutex_unlock(&o->mu);
		/* a notify must not cut the wait short: loop until it has passed */
		{
			uint64_t until = ct_now_mono_ns() + (uint64_t)wait_ms * 1000000ull;
			bool stop = false;

			while (!stop && ct_now_mono_ns() < until)
				stop = nap(o, (long)((until - ct_now_mono_ns()) / 1000000ull) + 1);
			if (stop)
				break;
		}
	}
	free(gz);
	return done;
}

/* Deliver the batch: true when it is done with (sent or refused). When the
 * agent stops half way, the position still moves past what was done. */
static bool deliver(struct ct_otlp *o, unsigned *seed)
{
	bool done;

	o->done_hi = 0;
	done = deliver_range(o, 0, o->batch.count, seed);
	if (done || o->done_hi) {
		o->pos = done ? o->batch.last_seq : o->batch.seqs[o->done_hi - 1];
		position_save(o);
	}
	if (done)
		ct_otlp_batch_reset(&o->batch);
	return done;
}

static void publish_lag(struct ct_otlp *o)
{
	pthread_mutex_lock(&o->mu);
	o->st.position = o->pos;
	o->oldest_pending_ns = o->batch.count ? o->batch_oldest_ns : 0;
	pthread_mutex_unlock(&o->mu);
}

static void *run(void *arg)
{
	struct ct_otlp *o = arg;
	unsigned seed = (unsigned)ct_now_mono_ns() ^ (unsigned)getpid();
	int final_batches = 0;

	for (;;) {
		bool stop;

		pthread_mutex_lock(&o->mu);
		stop = o->stop;
		pthread_mutex_unlock(&o->mu);
		if (stop && !o->final_pass) {
			/* what the agent stored last gets a bounded, single try */
			o->final_pass = true;
			final_batches = 8;
		}
		collect(o);
		publish_lag(o);
		if (!o->batch.count) {
			if (o->final_pass)
				break;
			nap(o, 1000);
			continue;
		}
		if (!deliver(o, &seed) && o->final_pass)
			break;
		publish_lag(o);
		if (o->final_pass && --final_batches == 0)
			break;
	}
	ct_otlp_batch_reset(&o->batch);
	publish_lag(o);
	return NULL;
}

/* ------------------------------------------------------------ API */

int ct_otlp_start(struct ct_otlp **out, const char *endpoint, const char *store_dir,
		  const char *host, uint64_t agent_seq, char *err, size_t errlen)
{
	struct ct_otlp *o = calloc(1, sizeof(*o));
	char idpath[PATH_MAX + 16];
	size_t n;
	int rc;

	*out = NULL;
	if (!o) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* URL/v1/logs, unless the URL already names the logs path */
	n = strlen(endpoint);
	while (n && endpoint[n - 1] == '/')
		n--;
	if (n >= 8 && !strncmp(endpoint + n - 8, "/v1/logs", 8))
		snprintf(o->url, sizeof(o->url), "%.*s", (int)n, endpoint);
	else
		snprintf(o->url, sizeof(o->url), "%.*s/v1/logs", (int)n, endpoint);
	ct_strlcpy(o->store_dir, store_dir, sizeof(o->store_dir));
	ct_strlcpy(o->host, host, sizeof(o->host));
	snprintf(o->pos_path, sizeof(o->pos_path), "%s/%s", store_dir, CT_OTLP_POSITION_FILE);
	snprintf(idpath, sizeof(idpath), "%s/store.id", store_dir);
	if (ct_read_file(idpath, o->store_id, 16) != 16) {
		snprintf(err, errlen, "cannot read %s", idpath);
		free(o);
		return -1;
	}
	o->store_id[16] = '\0';
	ct_otlp_instance_id(o->store_id, o->instance_id);
	rc = position_load(o, &o->pos);
	if (rc < 0 || (rc > 0 && o->pos > agent_seq)) {
		ct_err("otlp: %s is unreadable or names another store; exporting from seq %llu on",
		       o->pos_path, (unsigned long long)agent_seq + 1);
		o->st.position_errors++;
		rc = 0;
	}
	if (rc == 0) {
		/* first start: export from now on, not the whole history */
		o->pos = agent_seq;
		position_save(o);
	}
	o->st.position = o->pos;
	o->agent_seq = agent_seq;
	o->resp = malloc(RESPONSE_MAX);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !o->resp ||
	    !(o->curl = curl_easy_init())) {
		snprintf(err, errlen, "cannot initialise libcurl");
		free(o->resp);
		free(o);
		return -1;
	}
	o->hdrs = curl_slist_append(NULL, "Content-Type: application/x-protobuf");
	o->hdrs = curl_slist_append(o->hdrs, "Content-Encoding: gzip");
	o->hdrs = curl_slist_append(o->hdrs, "Expect:");
	curl_easy_setopt(o->curl, CURLOPT_URL, o->url);
	curl_easy_setopt(o->curl, CURLOPT_HTTPHEADER, o->hdrs);
	curl_easy_setopt(o->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(o->curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(o->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(o->curl, CURLOPT_WRITEDATA, o);
	curl_easy_setopt(o->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(o->curl, CURLOPT_HEADERDATA, o);
	curl_easy_setopt(o->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(o->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(o->curl, CURLOPT_XFERINFODATA, o);
	curl_easy_setopt(o->curl, CURLOPT_USERAGENT, "changetrace/" CT_VERSION);
	pthread_mutex_init(&o->mu, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&o->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (pthread_create(&o->thr, NULL, run, o) != 0) {
		snprintf(err, errlen, "cannot start the exporter thread");
		curl_easy_cleanup(o->curl);
		curl_slist_free_all(o->hdrs);
		free(o->resp);
		free(o);
		return -1;
	}
	o->started = true;
	fprintf(stderr, "changetrace: exporting OTLP logs to %s from seq %llu\n", o->url,
		(unsigned long long)o->pos + 1);
	*out = o;
	return 0;
}

void ct_otlp_notify(struct ct_otlp *o, uint64_t agent_seq)
{
	if (!o)
		return;
	pthread_mutex_lock(&o->mu);
	o->agent_seq = agent_seq;
	o->notified = true;
	pthread_cond_signal(&o->cv);
	pthread_mutex_unlock(&o->mu);
}

void ct_otlp_get_stats(struct ct_otlp *o, struct ct_otlp_stats *st)
{
	pthread_mutex_lock(&o->mu);
	*st = o->st;
	st->lag_events = o->agent_seq > o->st.position ? o->agent_seq - o->st.position : 0;
	st->lag_ms = 0;
	if (o->oldest_pending_ns) {
		uint64_t now = ct_now_wall_ns();

		st->lag_ms = now > o->oldest_pending_ns ? (now - o->oldest_pending_ns) / 1000000ull : 0;
	}
	pthread_mutex_unlock(&o->mu);
}

void ct_otlp_stop(struct ct_otlp *o, uint64_t agent_seq)
{
	if (!o)
		return;
	pthread_mutex_lock(&o->mu);
	o->agent_seq = agent_seq;
	o->stop = true;
	pthread_cond_signal(&o->cv);
	pthread_mutex_unlock(&o->mu);
	if (o->started)
		pthread_join(o->thr, NULL);
	curl_easy_cleanup(o->curl);
	curl_slist_free_all(o->hdrs);
	ct_otlp_batch_free(&o->batch);
	free(o->resp);
	pthread_mutex_destroy(&o->mu);
	pthread_cond_destroy(&o->cv);
	free(o);
}

static const struct ct_counter_def ct_otlp_counters_defs[] = {
	CT_COUNTER("otlp_exported", struct ct_otlp_stats, exported),
	CT_COUNTER("otlp_failed", struct ct_otlp_stats, failed),
	CT_COUNTER("otlp_rejected", struct ct_otlp_stats, rejected),
	CT_COUNTER("otlp_retries", struct ct_otlp_stats, retries),
	CT_COUNTER("otlp_requests", struct ct_otlp_stats, requests),
	CT_COUNTER("otlp_position", struct ct_otlp_stats, position),
	CT_COUNTER("otlp_lag_events", struct ct_otlp_stats, lag_events),
	CT_COUNTER("otlp_lag_ms", struct ct_otlp_stats, lag_ms),
	CT_COUNTER("otlp_last_http_status", struct ct_otlp_stats, last_http_status),
	CT_COUNTER("otlp_seq_skipped", struct ct_otlp_stats, seq_skipped),
	CT_COUNTER("otlp_position_errors", struct ct_otlp_stats, position_errors),
	CT_COUNTER("otlp_refused", struct ct_otlp_stats, refused),
	CT_COUNTER("otlp_last_refused_seq", struct ct_otlp_stats, last_refused_seq),
};
const struct ct_counter_table ct_otlp_counters = CT_COUNTER_TABLE(ct_otlp_counters_defs);
