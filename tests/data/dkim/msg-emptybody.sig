DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;
	s=f2m2023r; t=1700000000;
	bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;
	h=From:To:Subject:Date:Message-ID:from;
	b=EfEqJnoKLlLLz63aQ25aSDW0E57wi79rLwZ3aE6Il9lLUwXDr0srJOMjlAPNqNChy
	 /oNUDYAJ/hmxMER67fawOPhn+fxKRfTdSnpzOJKHfBgoA6C+ikW9pq1DFIHx4HOZYz
	 ITWX5dDmzWiRtVCiXPn0N9F7ISFa0ECUUehH4bHzJm1v6uycZvvQ4eRPvHoq9FfUk6
	 dK/gnhqYwO/zZA421eFDhhblc729ZpCEA+2xpSSZ3+1CBDJSiDQeKhaBWaZ8hGZrhL
	 9B0BUQMLw9JGEl+2kacshv8KXRlqpitoiEe2MxDPNGXnyQdci8ERfAd3uypVX+BAeC
	 voMvW+c8MjzoQ==
DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.com;
	s=f2m2023e; t=1700000000;
	bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;
	h=From:To:Subject:Date:Message-ID:from;
	b=RkTbI+7nyElAWHr/uIIVT/orOGJK+znzA3uXsHyPlM+wlc0qcNGR6pBwrYukkJwuO
	 OUKjakBF7lL/uMKQ+JwCQ==
