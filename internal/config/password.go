package config

import (
	"fmt"

	"hrss-backoffice/workflows"
)

// passwordSettings reads the password reminder and compromise settings.
func passwordSettings() (workflows.PasswordSettings, error) {
	d := workflows.DefaultPasswordSettings
	var p workflows.PasswordSettings
	var err error
	if p.MaxAge, err = durationEnv("PASSWORD_MAX_AGE", d.MaxAge); err != nil {
		return p, err
	}
	if p.RemindEvery, err = durationEnv("PASSWORD_REMIND_EVERY", d.RemindEvery); err != nil {
		return p, err
	}
	if p.SweepEvery, err = durationEnv("PASSWORD_SWEEP_EVERY", d.SweepEvery); err != nil {
		return p, err
	}
	if p.CompromiseRemindEvery, err = durationEnv("COMPROMISE_REMIND_EVERY", d.CompromiseRemindEvery); err != nil {
		return p, err
	}
	if p.PageSize, err = IntEnv("PASSWORD_SWEEP_PAGE", d.PageSize); err != nil {
		return p, err
	}
	if p.PageSize < 1 || p.PageSize > 10000 {
		return p, fmt.Errorf("PASSWORD_SWEEP_PAGE: want 1 to 10000, got %d", p.PageSize)
	}
	return p, nil
}
