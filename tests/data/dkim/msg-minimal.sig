DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;
	s=f2m2023r; t=1700000000;
	bh=s14J+iztnrytnRYzb7lhFG/jS/vrxWJnnahfijFMnco=;
	h=From:To:Subject:Date:Message-ID:from;
	b=K4Wituzzk+zesJMISh7uDHIsR1XzOG0eqI5U3hS12fQKp4s9P+LSb/L3k8rqNZW1L
	 /+fnkcOF0qmDlC+6XeWMun5CTiEUelmHs0SUCESDVWlpV2AktdJNBrw0nTb7IbeT+l
	 UylHVfZL7Qd+m/ggkvuul/Q4LOQo0P7Gc1SD3LnppBQUgIaDbJOJQd9dMgSfNgcf0r
	 0zQapbUIKN75Z0VFYcQX3AIuQy9sLbMe/fNf6gcDcDsHP361KZcRFx4HTy2BbivyhG
	 ieKYAJtxcY1Wdi1PLbrynLr4BEO3x7D6GTxIZYB+nMCd4qEBdjUMjJFOlDUYerEZF9
	 QHiYBWpTtdgEQ==
DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.com;
	s=f2m2023e; t=1700000000;
	bh=s14J+iztnrytnRYzb7lhFG/jS/vrxWJnnahfijFMnco=;
	h=From:To:Subject:Date:Message-ID:from;
	b=hCfYNfHncdZ2LjefIBBUXnvCapJguGk0SFx5Qr7V9rlGF4qoma2NgFDwFnLqucHVt
	 i682K1n0Fs+ozT5lbhrBg==
