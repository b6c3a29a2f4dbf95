/* test_confirm: the signed link of the autoresponder's double opt-in
 * (mail/confirm.h): round trip, forgeries, other forms, expiry, and a
 * table of hostile tokens. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mail/confirm.h"
#include "t.h"

static const unsigned char key[CONFIRM_KEY_LEN] =
    "0123456789abcdef0123456789abcde";
static const unsigned char key2[CONFIRM_KEY_LEN] =
    "another key, 32 octets long....";
#define ID	"abcdefghijklmnopqrstuvwxyz"
#define NOW	((time_t)1800000000)
#define Z64	"00000000000000000000000000000000" \
	"00000000000000000000000000000000"
#define T0	"1800000100." ID
#define Z58	"0000000000000000000000000000" \
	"000000000000000000000000000000"
#define Z63	"0000000000000000000000000000000" \
	"00000000000000000000000000000000"

static enum confirm_err
check(const char *form, const char *tok, time_t now)
{
	struct confirm_claim	 c;

	return confirm_check(key, form, tok, strlen(tok), now, &c);
}

static void
test_round_trip(void)
{
	struct confirm_claim	 c;
	char			 tok[CONFIRM_TOKEN_SIZE];
	char			 t2[CONFIRM_TOKEN_SIZE];
	char			 big[ADDR_MAX + 1];
	size_t			 i;

	T_INT(confirm_make(key, "contact", "V.ictim+x@Example.org", ID,
	    NOW + 100, tok), 0, "make");
	T_OK(strspn(tok, "0123456789abcdefghijklmnopqrstuvwxyz.") ==
	    strlen(tok), "token chars: %s", tok);
	T_INT(confirm_check(key, "contact", tok, strlen(tok), NOW, &c),
	    CONFIRM_OK, "check");
	T_STR(c.addr, "V.ictim+x@Example.org", "the exact address");
	T_STR(c.canon, "victim@example.org", "its mailbox");
	T_STR(c.id, ID, "the id");
	T_INT(c.expires, NOW + 100, "the expiry");
	T_INT(check("contact", tok, NOW + 100), CONFIRM_EEXPIRED, "at expiry");
	T_INT(check("contact", tok, NOW + 99), CONFIRM_OK, "just before");
	T_INT(check("other", tok, NOW), CONFIRM_EMAC, "another form");
	T_INT(check("contact2", tok, NOW), CONFIRM_EMAC, "a longer form id");
	T_INT(confirm_check(key2, "contact", tok, strlen(tok), NOW, &c),
	    CONFIRM_EMAC, "another key");
	/* every octet changed: never accepted */
	for (i = 0; tok[i] != '\0'; i++) {
		memcpy(t2, tok, sizeof(t2));
		t2[i] = t2[i] == '1' ? '2' : '1';
		T_OK(check("contact", t2, NOW) != CONFIRM_OK, "octet %zu "
		    "changed: %s", i, t2);
	}
	/* the expiry moved later, or another spelling of the same mailbox,
	 * under the same MAC */
	memcpy(t2, tok, sizeof(t2));
	t2[0] = '9';
	T_INT(check("contact", t2, NOW), CONFIRM_EMAC, "later expiry");
	T_INT(confirm_make(key, "contact", "victim@example.org", ID,
	    NOW + 100, t2), 0, "make 2");
	memcpy(strrchr(t2, '.'), strrchr(tok, '.'), CONFIRM_MAC_HEX + 2);
	T_INT(check("contact", t2, NOW), CONFIRM_EMAC, "same mailbox, "
	    "other address");
	/* the longest address fits */
	memset(big, 'a', 64);
	big[64] = '@';
	for (i = 65; i < ADDR_MAX; i++)
		big[i] = (i - 65) % 60 == 59 ? '.' : 'b';
	big[ADDR_MAX - 1] = 'c';
	big[ADDR_MAX] = '\0';
	T_INT(confirm_make(key, "contact", big, ID, 999999999999LL, tok), 0,
	    "longest");
	T_INT(strlen(tok), CONFIRM_TOKEN_MAX, "longest token");
	T_INT(check("contact", tok, NOW), CONFIRM_OK, "longest checks");
	/* what make refuses */
	T_INT(confirm_make(key, "contact", "not an address", ID, NOW, tok), -1,
	    "bad address");
	T_STR(tok, "", "nothing written");
	T_INT(confirm_make(key, "contact", "a@b.c", "SHORT", NOW, tok), -1,
	    "bad id");
	T_INT(confirm_make(key, "contact", "a@b.c", ID, 0, tok), -1,
	    "no expiry");
	T_INT(confirm_make(key, "contact", "a@b.c", ID, 1000000000000LL,
	    tok), -1, "13 digits");
	T_INT(confirm_make(key, NULL, "a@b.c", ID, NOW, tok), -1, "NULL");
}

/* Hostile shapes: refused before any MAC (CONFIRM_EINVAL). */
static const char *const hostile[] = {
	"",
	".",
	"....",
	"1800000100",
	T0,
	T0 ".",
	T0 ".612e62.",
	T0 ".." Z64,
	/* leading zero, sign, 13 digits, not digits */
	"01800000100." ID ".61406263" "." Z64,
	"+1800000100." ID ".61406263" "." Z64,
	"1800000100000." ID ".61406263" "." Z64,
	"18e8." ID ".61406263" "." Z64,
	/* id: short, long, upper case, punctuation */
	"1800000100.abc.61406263" "." Z64,
	T0 "a.61406263" "." Z64,
	"1800000100.ABCDEFGHIJKLMNOPQRSTUVWXYZ.61406263" "." Z64,
	"1800000100.abcdefghijklmnopqrstuvwxy-.61406263" "." Z64,
	/* address hex: odd, upper case, not hex, not an address */
	T0 ".6140626" "." Z64,
	T0 ".614062632E63" "." Z64,
	T0 ".zz406263" "." Z64,
	T0 ".616263" "." Z64,
	/* "a@b.c\r\nBcc: x@y.z" */
	T0 ".6140622e630d0a4263633a20784079 2e7a" "." Z64,
	T0 ".6140622e630d0a426363" "." Z64,
	/* "a@b.c" NUL */
	T0 ".6140622e6300" "." Z64,
	/* MAC: short, long, upper case, not hex */
	T0 ".6140622e63" "." Z63,
	T0 ".6140622e63" "." Z64 "0",
	T0 ".6140622e63" ".ABCDEF" Z58,
	T0 ".6140622e63" ".g" Z63,
	/* extra fields, spaces, a query's rest */
	T0 ".6140622e63" "." Z64 ".",
	T0 ".6140622e63" "." Z64 "&x=1",
	" 1800000100." ID ".6140622e63" "." Z64,
	T0 ".6140622e63" "." Z64 " ",
};

static void
test_hostile(void)
{
	struct confirm_claim	 c;
	char			 big[CONFIRM_TOKEN_MAX + 2];
	size_t			 i;

	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
		T_INT(check("contact", hostile[i], NOW), CONFIRM_EINVAL,
		    t_show(hostile[i], strlen(hostile[i])));
	/* a well-formed shape with a wrong MAC */
	T_INT(check("contact", T0 ".6140622e63" "." Z64,
	    NOW), CONFIRM_EMAC, "wrong MAC");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	T_INT(check("contact", big, NOW), CONFIRM_EINVAL, "too long");
	T_INT(confirm_check(key, "contact", NULL, 0, NOW, &c), CONFIRM_EINVAL,
	    "NULL");
	T_INT(confirm_check(key, "contact", "1800000100.", 5, NOW, &c),
	    CONFIRM_EINVAL, "length counts, not the NUL");
}

int
main(void)
{
	test_round_trip();
	test_hostile();
	T_DONE();
}
