/*
 * `changetrace run --deploy ID [provenance] -- CMD ARGS`: ask the agent to
 * attribute this very process (by SO_PEERCRED pid) to the deploy, then
 * exec CMD, so CMD and all its descendants carry the deploy.
 *
 * The deploy must be registered (`deploy start`), or provenance flags must
 * be given (the deploy is then started implicitly), or --unregistered must
 * say that running under an unregistered id is intended.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lib/control.h"
#include "lib/deploy_validate.h"
#include "prov_opts.h"
#include "lib/util.h"

static const char run_usage[] =
"usage: changetrace run --deploy ID [options] -- CMD [ARGS...]\n"
"\n"
"Run CMD attributed to deploy ID: CMD and every descendant (forks, threads,\n"
"double-forked daemons) carry the deploy. A deploy that has ended cannot be\n"
"joined. CMD is refused when the agent cannot be reached, unless\n"
"--allow-untraced. Provenance flags start the deploy if it is not registered.\n"
"\n"
"  --deploy ID         deploy to attribute CMD and its descendants to; it must\n"
"                      be registered (deploy start), or provenance flags below\n"
"                      start it now, or --unregistered accepts an unknown id\n"
CT_PROV_USAGE
"  --unregistered      run under an id nobody registered (flagged unregistered)\n"
"  --allow-untraced    run CMD even when the agent cannot be reached (not when\n"
"                      it refuses)\n"
"  --socket PATH       agent control socket\n";

int ct_cmd_run(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "deploy", required_argument, NULL, 'd' },
		{ "unregistered", no_argument, NULL, 'U' },
		{ "allow-untraced", no_argument, NULL, 'u' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		CT_PROV_LONG_OPTS,
		{ 0 }
	};
	static struct ct_prov_opts prov;
	PbTagSelfRequest tag = CHANGETRACE__V1__TAG_SELF_REQUEST__INIT;
	PbRequest req = CHANGETRACE__V1__REQUEST__INIT;
	const char *deploy = NULL, *sock = NULL, *why;
	bool allow_untraced = false;
	char err[256];
	PbResponse *resp;
	int c, fd, r;

	ct_prov_init(&prov);
	optind = 1;
	/* '+': stop at the first non-option, so CMD's own flags are CMD's. */
	while ((c = getopt_long(argc, argv, "+", lopts, NULL)) != -1) {
		switch (c) {
		case 'd': deploy = optarg; break;
		case 'U': tag.allow_unregistered = 1; break;
		case 'u': allow_untraced = true; break;
		case 's': sock = optarg; break;
		case 'h': fputs(run_usage, stdout); return 0;
		default:
			r = ct_prov_opt(&prov, c, optarg, "run");
			if (r < 0)
				return 2;
			if (r == 0) {
				fputs(run_usage, stderr);
				return 2;
			}
		}
	}
	if (!deploy) {
		ct_err("run: --deploy ID is required");
		fputs(run_usage, stderr);
		return 2;
	}
	if (!ct_valid_deploy_id(deploy, &why)) {
		ct_err("run: invalid --deploy: %s", why);
		return 2;
	}
	if (optind >= argc) {
		ct_err("run: missing command (usage: changetrace run --deploy ID -- CMD [ARGS...])");
		return 2;
	}
	if (ct_prov_finish(&prov, "run") < 0)
		return 2;
	prov.dep.id = (char *)deploy;
	if ((why = ct_validate_deploy(&prov.dep))) {
		ct_err("run: %s", why);
		return 2;
	}
	tag.deploy_id = (char *)deploy;
	if (prov.have_prov)
		tag.deploy = &prov.dep;
	req.body_case = CHANGETRACE__V1__REQUEST__BODY_TAG_SELF;
	req.tag_self = &tag;

	/* --allow-untraced is for an agent that cannot be reached (down, not
	 * answering); an agent that answers and refuses (permission, unknown
	 * or ended deploy) has decided, and the command does not run. */
	fd = ct_ctl_connect(ct_socket_path(sock), err, sizeof(err));
	resp = fd < 0 ? NULL : ct_ctl_call(fd, &req, err, sizeof(err));
	if (fd >= 0)
		close(fd);
	if (resp && !resp->ok) {
		ct_err("run: agent refused: %s; not running the command%s", resp->error,
		       allow_untraced ? " (--allow-untraced applies only when the agent "
					"cannot be reached)" : "");
		changetrace__v1__response__free_unpacked(resp, NULL);
		return 1;
	}
	if (!resp) {
		if (!allow_untraced) {
			ct_err("run: %s; not running the command untraced (use --allow-untraced)", err);
			return 1;
		}
		ct_err("run: warning: %s; running untraced", err);
	} else {
		changetrace__v1__response__free_unpacked(resp, NULL);
	}
	execvp(argv[optind], argv + optind);
	ct_err("run: cannot execute %s: %s", argv[optind], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
