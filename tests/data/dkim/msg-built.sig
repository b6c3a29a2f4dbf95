DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;
	s=f2m2023r; t=1700000000;
	bh=umFHEMBbtXZDnyidyAr4ryYaeBnrb3Okel6MWSC3I24=;
	h=From:To:Subject:Date:Message-ID:MIME-Version:Content-Type:
	 Content-Transfer-Encoding:from;
	b=pUDDAnNoyghchjdKmnA6W7qNKe2vPjCyQcamT3DPPK0VdBMkTJ/+Tjrfb3pixPa9v
	 WWEy0o/NBCGc0x1YIKn2AmvabWO/A/jutXg1iuv6/j0SZyquE3vRHX00u2xI8M3X7i
	 /DUd0hOkE1qZy3y4ww1XkHo89TNigkBMvhb07RzOEi1kFVjKQY3joXqbSawglkf7IX
	 1aqOtjZpvCbjGhKI42gUP7ew/OSVFoN+I0KqZfo8sA+dblYhj0+xn1QjaH+i0xnYc4
	 /G6BrV/EklTqPb8z0q0gR3qfZVGkm67n36NQAYt8pitBgA6Dq9I2QlyDNBq8dHt+qQ
	 u0S+V9Pr9wseg==
DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.com;
	s=f2m2023e; t=1700000000;
	bh=umFHEMBbtXZDnyidyAr4ryYaeBnrb3Okel6MWSC3I24=;
	h=From:To:Subject:Date:Message-ID:MIME-Version:Content-Type:
	 Content-Transfer-Encoding:from;
	b=MlGd02ytUdsbgvb2go+fk2Isfq5cuUsceTD86tZZib3LQFK46Mpt0gaFko2vTJ7mH
	 3+meWvGwHV57AvjJ1y1DA==
