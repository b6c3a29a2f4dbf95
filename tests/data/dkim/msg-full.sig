DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;
	s=f2m2023r; t=1700000000;
	bh=f7qLvRTk76HYXIlqb/FYyy0juiSQhxrGJfENPG82Ksw=;
	h=From:Reply-To:To:Cc:Subject:Date:Message-ID:MIME-Version:
	 Content-Type:Content-Transfer-Encoding:from;
	b=H67yBt1lvseSGWKtUHWdqgE8QpXgA7I+PNbNt7tjjPdwGFXPufnK7ofVmarMGjXcQ
	 g5yh+ALthoAKWa4eF6QysZhKbDwqqX//p7jZhdp1yISPZ/qRoCfMvUxVwwRsR9M4//
	 rEEgAn2W8z7uNxYr97mMt3mCpKMbNTe97cQ7ExGrvdb2qhKiDMqjHed7Bj4UEsYc1A
	 HWUMnrCCz3Mq20SjqLG+iyCwDP1qvLTU4ITcn5n+BfK7+l7IlbhNseadzGkJW9BnZx
	 tBNg4PujvfCqCo4uVtTsSYM4jFYdpM0MLhWibEQ1fOmFPDyvnSjg1M3C1cOvvuU7vh
	 ZONftPpbv7kkg==
DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.com;
	s=f2m2023e; t=1700000000;
	bh=f7qLvRTk76HYXIlqb/FYyy0juiSQhxrGJfENPG82Ksw=;
	h=From:Reply-To:To:Cc:Subject:Date:Message-ID:MIME-Version:
	 Content-Type:Content-Transfer-Encoding:from;
	b=3IlkOYSaTslD5cARqF92DgV9Wdd+X5VJzvK01/L+P+2EExvqoxZ27QwVVXs0Z/WiI
	 GUBdxgu24Jzgqc9zHcgDw==
